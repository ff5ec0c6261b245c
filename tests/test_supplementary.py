"""DCASE 2025 supplementary recordings: names, scanning, the `bank` and `noise-norm` modes against direct
computations, the run option and its refusal, and the results / leaderboard marks."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from impact_bench.anomaly import supplementary as sx
from impact_bench.anomaly.backends import BackendConfig
from impact_bench.anomaly.dataset import AsdClip, scan_dcase
from impact_bench.anomaly.scoring import score_set
from impact_bench.anomaly.submission import Unit
from impact_bench.errors import DataError
from impact_bench.pipeline.options import OptionError
from impact_bench.runner import RunRequest, run
from impact_bench.suites.catalog import get_suite
from impact_bench.synth import dcase_synth as ds


def write_supplemental(root: Path, planned: list, n: int = 3) -> None:
    """Beside a generated 2025 tree: per machine ``n`` clean machine recordings (the machine's source-domain
    sound without factory noise) and ``n`` noise-only clips (the source background), named in the two forms
    the sources show (baseline README_legacy; a participant's loader)."""
    speeds = {(p.set, p.machine): p.speed for p in planned if p.split == "train" and p.domain == "source"}
    for (set_name, machine), speed in sorted(speeds.items()):
        folder = root / f"{set_name}_data" / machine / "supplemental"
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(n):
            clean = ds.machine_sound(machine, speed, None, ds.rng_for("supp-machine", set_name, machine, k))
            noise = ds.background("A", int(ds.SR * ds.SECONDS), ds.rng_for("supp-noise", set_name, machine, k))
            for name, sig in ((f"section_00_machine_{k:04d}_.wav", clean),
                              (f"section_00_noise_supplemental_normal_{k:04d}.wav", noise)):
                sf.write(str(folder / name), (0.3 * sig / np.abs(sig).max()).astype(np.float32), ds.SR,
                         subtype="PCM_16")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("dcase2025")
    planned = ds.write_dcase_synth(root, 2025, {"dev": ("fan",), "eval": ("AutoTrash",)}, 0.01, progress=False)
    write_supplemental(root, planned)
    return root


@pytest.mark.parametrize("name,want", [
    ("section_00_machine_0001_.wav", ("section_00", "machine", None)),           # baseline README_legacy
    ("section_00_source_supplemental_machine_0000.wav", ("section_00", "machine", "source")),
    ("section_00_noise_supplemental_normal_0000.wav", ("section_00", "noise", None)),
    ("section_01_noise_0003_.wav", ("section_01", "noise", None)),
    ("section_00_target_supplemental_machine_0002_car_noise_1.wav", ("section_00", "machine", "target")),
    ("section_00_source_train_normal_0000_.wav", None),                           # not a supplementary name
    ("section_00_machine_.wav", None), ("noise_0001.wav", None), ("section_00_machine_0001_.flac", None),
])
def test_supplementary_names(name, want):
    assert sx.parse_name(name) == want


def test_scan_finds_both_kinds_beside_the_scored_machines(tree):
    index = scan_dcase(tree, 2025, ("dev", "eval"))
    assert index.supplemental == {"dev/fan": 6, "eval/AutoTrash": 6}  # the reader's count (dataset.py)
    found = sx.scan(index.clips, tree)
    assert len(found) == 12 and {c.kind for c in found} == {"machine", "noise"}
    assert all(c.split == "supplemental" and c.unit == "section_00" for c in found)
    assert sx.require("noise-norm", found, "dcase2025") == {"machine": 6, "noise": 6}
    with pytest.raises(DataError, match="no clean machine recordings"):
        sx.require("bank", [c for c in found if c.kind == "noise"], "dcase2025")


def test_scan_names_a_file_it_cannot_read(tmp_path):
    clip = AsdClip(tmp_path / "fan/train/section_00_source_train_normal_0000_a.wav", "x", "dev", "fan", "section_00",
                   "train", "source", "normal")
    (tmp_path / "fan/supplemental").mkdir(parents=True)
    (tmp_path / "fan/supplemental/readme_clip.wav").write_bytes(b"")
    with pytest.raises(DataError, match="readme_clip.wav"):
        sx.scan([clip], tmp_path)
    (tmp_path / "fan/supplemental/readme_clip.wav").unlink()
    (tmp_path / "fan/supplemental/section_03_noise_0000_.wav").write_bytes(b"")
    with pytest.raises(DataError, match="section_03 has no training or test clips"):
        sx.scan([clip], tmp_path)


# --- the two modes against direct computations (hand-built embeddings, k = 1 cosine) ---

def _unit_clips(seed: int = 0):
    def clip(split, domain, label, k, kind=None):
        if kind:
            name = f"section_00_{'target_supplemental_' if domain == 'target' else ''}{kind}_{k:04d}_.wav"
            return sx.SupplementaryClip(Path("/d/fan/supplemental") / name, name, "dev", "fan", "section_00",
                                        "supplemental", domain, "normal" if kind == "machine" else None, kind=kind)
        name = f"section_00_{domain}_{split}_{label}_{k:04d}_a.wav"
        return AsdClip(Path(f"/d/fan/{split}") / name, name, "dev", "fan", "section_00", split, domain, label, "a")
    clips = [clip("train", "source", "normal", k) for k in range(12)] + [clip("train", "target", "normal", k)
                                                                        for k in range(3)]
    clips += [clip("test", d, lab, k) for d in ("source", "target") for lab in ("normal", "anomaly") for k in range(4)]
    clips += [clip(None, None, None, k, "machine") for k in range(2)] + [clip(None, "target", None, 2, "machine")]
    clips += [clip(None, None, None, k, "noise") for k in range(3)]
    r = np.random.default_rng(seed)
    x = r.normal(size=(len(clips), 8)).astype(np.float32) + 2.0
    return clips, x


def _percentile(spec):
    """The suite with the plain 90th-percentile threshold (exact under 1e-7 float noise, unlike a gamma fit)."""
    return spec.model_copy(update={"protocol": spec.protocol.model_copy(update={"threshold": "percentile"})})


def _cos(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.clip(1 - a @ b.T, 0, 2).astype(np.float64)


def _min_rule(x, train_src, train_tgt, test, train):
    """Test scores and leave-one-out training scores of the source/target KNN detectors, min over the two."""
    def det(bank):
        s_test = _cos(x[test], x[bank]).min(1)
        d = _cos(x[train], x[bank])
        for row, i in enumerate(train):
            if i in bank:
                d[row, bank.index(i)] = np.inf  # a clip is not its own neighbour
        return s_test, d.min(1)
    (a, b), (c, e) = det(train_src), det(train_tgt)
    return np.minimum(a, c), np.minimum(b, e)


def test_bank_mode_adds_clean_recordings_to_their_domains_bank():
    clips, x = _unit_clips()
    idx = {k: [i for i, c in enumerate(clips) if f(c)] for k, f in {
        "src": lambda c: c.split == "train" and c.domain == "source",
        "tgt": lambda c: c.split == "train" and c.domain == "target",
        "test": lambda c: c.split == "test",
        "clean": lambda c: getattr(c, "kind", None) == "machine" and c.domain is None,
        "clean_t": lambda c: getattr(c, "kind", None) == "machine" and c.domain == "target"}.items()}
    train = idx["src"] + idx["tgt"]
    want, want_train = _min_rule(x, idx["src"] + idx["clean"], idx["tgt"] + idx["clean_t"], idx["test"], train)
    report: dict = {}
    names, scores, decisions = score_set(_percentile(get_suite("dcase2025")), BackendConfig(), clips, x, "dev", "bank",
                                         report)[Unit("fan", "section_00")]
    assert names == [clips[i].name for i in idx["test"]]
    assert scores == pytest.approx(want, abs=1e-5)
    thr = np.quantile(want_train, 0.9)  # threshold from the real training clips only
    assert decisions.tolist() == (want > thr).astype(int).tolist()
    assert report == {"fan": {"section_00": {"clean_in_bank": 3}}}
    plain = score_set(get_suite("dcase2025"), BackendConfig(), clips, x, "dev")[Unit("fan", "section_00")][1]
    base, _ = _min_rule(x, idx["src"], idx["tgt"], idx["test"], train)
    assert plain == pytest.approx(base, abs=1e-5)  # ignore: the supplementary clips are never used


def test_noise_norm_subtracts_the_fit_on_the_nearest_noise_distance():
    clips, x = _unit_clips(1)
    src = [i for i, c in enumerate(clips) if c.split == "train" and c.domain == "source"]
    tgt = [i for i, c in enumerate(clips) if c.split == "train" and c.domain == "target"]
    test = [i for i, c in enumerate(clips) if c.split == "test"]
    noise = [i for i, c in enumerate(clips) if getattr(c, "kind", None) == "noise"]
    s, s_train = _min_rule(x, src, tgt, test, src + tgt)
    d, d_train = _cos(x[test], x[noise]).min(1), _cos(x[src + tgt], x[noise]).min(1)
    slope, intercept = np.polyfit(d_train, s_train, 1)
    report: dict = {}
    _, scores, decisions = score_set(_percentile(get_suite("dcase2025")), BackendConfig(), clips, x, "dev",
                                     "noise-norm", report)[Unit("fan", "section_00")]
    assert scores == pytest.approx(s - slope * (d - d_train.mean()), abs=1e-5)
    fit = report["fan"]["section_00"]["noise_fit"]
    assert fit["slope"] == pytest.approx(slope, abs=1e-5) and fit["intercept"] == pytest.approx(intercept, abs=1e-5)
    normed_train = s_train - slope * (d_train - d_train.mean())
    assert normed_train.mean() == pytest.approx(s_train.mean(), abs=1e-9)  # the score's level is kept
    thr = np.quantile(normed_train, 0.9)
    assert decisions.tolist() == (scores > thr).astype(int).tolist()
    # constant noise distances: no slope, a plain shift by the mean training score
    a, b = sx.noise_fit(np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.5, 0.5]))
    assert (a, b) == (2.0, 0.0)


# --- the run option ---

def _run(root: Path, out: Path, **kw) -> dict:
    path = run(RunRequest(encoder="logmel-stats", suite="dcase2025", data_root=root, out=out, use_cache=False,
                          progress=False, ground_truth=root / "ground_truth", **kw), log=lambda _m: None)
    return json.loads(Path(path).read_text())


@pytest.mark.parametrize("suite,mode,match", [
    ("dcase2024-synth", "bank", "does not apply to suite dcase2024-synth"),
    ("mimii-synth", "noise-norm", "does not apply to suite mimii-synth"),
    ("dcase2025", "denoise", "must be one of ignore, bank, noise-norm"),
])
def test_supplementary_is_refused_where_there_is_none(tmp_path, suite, mode, match):
    with pytest.raises(OptionError, match=match):
        run(RunRequest(encoder="logmel-stats", suite=suite, data_root=tmp_path, out=tmp_path, supplementary=mode,
                       progress=False), log=lambda _m: None)


@pytest.mark.slow
def test_runs_with_supplementary_data_are_marked_and_kept_apart(tree, tmp_path):
    from impact_bench.leaderboards.anomaly import sections
    plain = _run(tree, tmp_path)
    normed = _run(tree, tmp_path, supplementary="noise-norm")
    assert plain["protocol"]["supplementary"] == "ignore" and plain["sets"]["dev"].get("supplementary") is None
    assert normed["protocol"]["supplementary"] == "noise-norm"
    assert normed["encoder"]["label"] == "logmel-stats+supp-noise-norm"  # its own results file
    assert normed["run_fingerprint"] != plain["run_fingerprint"]
    assert normed["suite"]["data_fingerprint"]["files"] == plain["suite"]["data_fingerprint"]["files"] + 12
    used = normed["sets"]["eval"]["supplementary"]["units"]["AutoTrash"]["section_00"]
    assert used["noise_clips"] == 3 and set(used["noise_fit"]) == {"intercept", "slope", "noise_distance_mean"}
    for res in (plain, normed):  # the extra figures are recorded beside the official ones
        dev = res["sets"]["dev"]
        assert dev["pooled"]["official"] is False and dev["extra_metrics"]["official"] is False
        assert dev["extra_metrics"]["total"]["smix_auc"] == pytest.approx(dev["machines"]["fan"]["mean"]["auc_source"])
    lines = "\n".join(sections([("plain", plain), ("normed", normed)], tmp_path / "board.md", figures=False))
    heads = [ln for ln in lines.splitlines() if ln.startswith("## Anomaly suite")]
    assert heads == ["## Anomaly suite `dcase2025` v1.0 (real data)",
                     "## Anomaly suite `dcase2025` v1.0 (real data), supplementary recordings used (`noise-norm`)"]
    assert "not the official score" in lines
