"""LISTEN release: networks and front end equal to the release's own code (golden file from
scripts/golden/listen.py), strict loading, the listen-onsite reader's errors, the LISTEN head probe,
``reproduce``'s comparison, and ``embed`` = the run's extraction path. Tests against a real clone run
when ``IMPACT_BENCH_LISTEN_ROOT`` points at one (skipped otherwise)."""
from __future__ import annotations

import csv
import os
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from impact_bench.baselines.listen import RELEASE_FILES, ListenFrontend, load_head
from impact_bench.baselines.listen_nets import ARCHITECTURES
from impact_bench.checkpoints import CheckpointError, seeded_state_dict
from impact_bench.cli import main
from impact_bench.encoders.catalog import build_encoder
from impact_bench.encoders.conformance import assert_conforms
from impact_bench.errors import DataError
from impact_bench.extract import extract, load_for_encoder
from impact_bench.listen_head import ListenHead, ListenHeadConfig, run_listen_probe, train_head
from impact_bench.listen_reproduce import reproduce
from impact_bench.suites import listen
from impact_bench.suites.catalog import get_suite

DATA = Path(__file__).parent / "data"
GOLDEN = np.load(DATA / "listen_golden.npz")
SEEDS = {"listen": 0, "bc-resnet-3": 1, "mobilevit-xxs": 2, "mobilenetv4-small": 3}  # as scripts/golden/listen.py
SPEC = get_suite("listen-onsite")
CLASSES = list(SPEC.problems[0].tasks)
REAL = os.environ.get("IMPACT_BENCH_LISTEN_ROOT")
needs_release = pytest.mark.skipif(not REAL, reason="set IMPACT_BENCH_LISTEN_ROOT to a clone of "
                                                    "github.com/hanprd/LISTEN to check against the real release")


def _golden_files(tmp: Path) -> dict[str, Path]:
    paths = {}
    for name in GOLDEN["order"]:
        paths[str(name)] = tmp / f"{name}.wav"
        sf.write(paths[str(name)], GOLDEN[f"wave_{name}"], 48_000, subtype="PCM_16")
    return paths


def _specs(paths: dict[str, Path], start: int = 0, which: list[str] | None = None) -> torch.Tensor:
    front = ListenFrontend()
    waves = [load_for_encoder(paths[n], SPEC.audio, 48_000, 48_000, start)[0] for n in (which or list(paths))]
    with torch.inference_mode():
        return front(torch.as_tensor(np.stack(waves)))


def test_clip_and_spectrogram_equal_the_release_dataset(tmp_path):
    """read → pad/crop → RMS + z-score (unbiased std) → mel (f_min 128 Hz) → dB → (x+80)/160."""
    paths = _golden_files(tmp_path)
    np.testing.assert_allclose(_specs(paths).numpy(), GOLDEN["spec"], rtol=0, atol=2e-5)
    offset = _specs(paths, 12000, ["tone15"])  # the train manifest's start_sample
    np.testing.assert_allclose(offset.numpy(), GOLDEN["spec_offset"], rtol=0, atol=2e-5)


def test_f_min_is_the_releases_128_hz():
    wave = torch.as_tensor(np.random.default_rng(0).standard_normal((1, 48_000)), dtype=torch.float32)
    with torch.inference_mode():
        assert not torch.allclose(ListenFrontend(0.0)(wave), ListenFrontend()(wave), atol=1e-3)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_networks_and_heads_equal_the_release_classes(arch):
    net = ARCHITECTURES[arch]()
    net.load_state_dict(seeded_state_dict(net.state_dict(), SEEDS[arch]), strict=True)
    net.eval()
    with torch.inference_mode():
        emb = net(torch.as_tensor(GOLDEN["spec"]))
        ref = GOLDEN[f"emb_{arch}"]
        np.testing.assert_allclose(emb.numpy(), ref, rtol=1e-4, atol=2e-5)
        # random deep nets (MobileViT above all) map different inputs to nearby outputs: compare the
        # between-input differences too, at 1 % of their spread
        centred, ref_centred = emb.numpy() - emb.numpy().mean(0), ref - ref.mean(0)
        np.testing.assert_allclose(centred, ref_centred, rtol=0, atol=0.01 * float(ref_centred.std()))
        head = ListenHead(emb.shape[1], 10)
        head.load_state_dict(seeded_state_dict(head.state_dict(), 100 + SEEDS[arch]), strict=True)
        np.testing.assert_allclose(head.eval()(emb).softmax(1).numpy(), GOLDEN[f"prob_{arch}"], rtol=0, atol=1e-5)


def _save(model: torch.nn.Module, path: Path, seed: int) -> Path:
    torch.save(seeded_state_dict(model.state_dict(), seed), path)
    return path


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_adapter_loads_strictly(arch, tmp_path):  # conformance: test_conformance.py
    ckpt = _save(ARCHITECTURES[arch](), tmp_path / f"{RELEASE_FILES[arch]}.pth", SEEDS[arch])
    enc = build_encoder(arch, checkpoint=str(ckpt))
    assert enc.embedding_dim == (64 if arch == "listen" else 192) and len(enc.checkpoint_sha256) == 64
    paths = _golden_files(tmp_path)
    waves = np.stack([load_for_encoder(paths[str(n)], SPEC.audio, 48_000, 48_000)[0] for n in GOLDEN["order"]])
    np.testing.assert_allclose(enc.embed(waves), GOLDEN[f"emb_{arch}"], rtol=1e-4, atol=5e-5)


def test_strict_loading_names_missing_and_unexpected_keys(tmp_path):
    state = seeded_state_dict(ARCHITECTURES["listen"]().state_dict())
    del state["blocks.1.linear2.bias"]
    state["decoder.weight"] = torch.zeros(2)
    torch.save(state, tmp_path / "LISTEN.pth")
    with pytest.raises(CheckpointError) as err:
        build_encoder("listen", checkpoint=str(tmp_path / "LISTEN.pth"))
    assert "missing (1): blocks.1.linear2.bias" in str(err.value) and "unexpected (1): decoder.weight" in str(err.value)
    torch.save(seeded_state_dict(ListenHead(64, 4).state_dict()), tmp_path / "head.pth")
    with pytest.raises(CheckpointError, match="head has 4 outputs; the suite has 10"):
        load_head(tmp_path / "head.pth", 64, 10)


def test_missing_weights_say_where_they_were_looked_for(monkeypatch, tmp_path):
    monkeypatch.setenv("IMPACT_BENCH_LISTEN_ROOT", str(tmp_path))
    monkeypatch.setenv("IMPACT_BENCH_CACHE", str(tmp_path / "cache"))
    with pytest.raises(Exception) as err:
        build_encoder("mobilenetv4-small")
    text = str(err.value)
    assert "MobileNetV4-Small.pth" in text and str(tmp_path / "Models") in text and "absent from some copies" in text


# --- a small release-layout tree ---------------------------------------------------------------------

def write_release(root: Path, per_class: int = 3, rate: int = 48_000, models: tuple[str, ...] = ("listen",)) -> Path:
    """Tone-per-class clips in the release layout, seeded weights and heads in Models/."""
    rng = np.random.default_rng(5)
    rows = []
    for k, name in enumerate(CLASSES):
        for split, folder in (("train", root / listen.TRAIN_DIR / name), ("test", root / listen.TEST_DIR / name)):
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                n = rate if not (split == "train" and i == 0) else int(1.5 * rate)
                t = np.arange(n) / rate
                x = 0.3 * np.sin(2 * np.pi * (300 + 400 * k) * t) + 0.02 * rng.standard_normal(n)
                path = folder / f"audio_{k}_{i}.wav"
                sf.write(path, x, rate, subtype="PCM_16")
                if split == "train":
                    rows.append([path.relative_to(root).as_posix(), 12000 if i == 0 else 0, k, name])
    with (root / listen.TRAIN_DIR / listen.MANIFEST).open("w", newline="") as f:
        csv.writer(f).writerows([list(listen.COLUMNS)] + rows)
    (root / "Models").mkdir(exist_ok=True)
    for arch in models:
        net = ARCHITECTURES[arch]()
        _save(net, root / "Models" / f"{RELEASE_FILES[arch]}.pth", SEEDS[arch])
        dim = 64 if arch == "listen" else 192
        _save(ListenHead(dim, 10), root / "Models" / f"{RELEASE_FILES[arch]}-classifier.pth", 100 + SEEDS[arch])
    return root


def test_reader_indexes_manifest_and_test_folders(tmp_path):
    root = write_release(tmp_path)
    index = listen.scan(root, SPEC)
    train = [c for c in index.clips if c.release_split == "train"]
    assert len(train) == 30 and len(index.clips) == 60
    assert sum(c.start == 12000 for c in train) == 10 and all(c.relpath.endswith("@12000") for c in train if c.start)
    assert [c.task for c in index.clips][::6] == CLASSES  # the suite's (= the release's sorted) class order


@pytest.mark.parametrize("damage,message", [
    ("missing_file", "field 'filepath' names"),
    ("extra_folder", "class folder 'Mode9' is not in"),
    ("rate", "sample rate 44100 Hz"),
    ("header", "header must hold filepath,start_sample,label,class_name"),
    ("two_labels", "a class carries several labels"),
    ("start_past_end", "start_sample 99999 is past the end"),
])
def test_reader_errors_name_the_file(tmp_path, damage, message):
    root = write_release(tmp_path, per_class=2)
    manifest = root / listen.TRAIN_DIR / listen.MANIFEST
    lines = manifest.read_text().splitlines()
    if damage == "missing_file":
        (root / lines[1].split(",")[0]).unlink()
    elif damage == "extra_folder":
        (root / listen.TEST_DIR / "Mode9").mkdir()
    elif damage == "rate":
        sf.write(root / listen.TEST_DIR / "Off" / "audio_8_0.wav", np.zeros(44100), 44100)
    elif damage == "header":
        manifest.write_text("\n".join(["path,start,label,class"] + lines[1:]) + "\n")
    elif damage == "two_labels":
        parts = lines[2].split(",")
        lines[2] = ",".join(parts[:2] + ["7"] + parts[3:])
        manifest.write_text("\n".join(lines) + "\n")
    elif damage == "start_past_end":
        parts = lines[1].split(",")
        lines[1] = ",".join([parts[0], "99999"] + parts[2:])
        manifest.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=message):
        listen.scan(root, SPEC)


def test_run_official_split_and_listen_head(tmp_path):
    root = write_release(tmp_path / "rel")
    for probe in ("paper", "listen"):
        args = ["run", "--encoder", "logmel-stats", "--suite", "listen-onsite", "--data-root", str(root), "--seeds", "2",
                "--out", str(tmp_path / "out"), "--no-cache", "--quiet", "--probe", probe]
        assert main(args) == 0
    import json
    paper = json.loads((tmp_path / "out" / "listen-onsite__logmel-stats.json").read_text())
    head = json.loads((tmp_path / "out" / "listen-onsite__logmel-stats-listen-head.json").read_text())
    assert paper["protocol"]["split"] == "official" and head["protocol"]["probe"]["head"] == "listen"
    assert head["protocol"]["probe"]["lr"] == 5e-4 and head["protocol"]["probe"]["epochs"] == 200
    assert head["encoder"]["label"] == "logmel-stats+listen-head"
    for res in (paper, head):  # fit on the 30 training clips, scored on the 30 test clips
        assert all(s["n_train"] == 30 and s["n_test"] == 30 for s in res["problems"][0]["seeds"])
    assert head["problems"][0]["macro_f1"]["mean"] > 0.9  # one tone per class


def test_listen_head_recipe_is_seeded_and_leaves_global_rng_alone():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.3, (20, 8)) for c in range(3)]).astype(np.float32)
    y = np.repeat(np.arange(3), 20)
    cfg = ListenHeadConfig(seeds=2, epochs=30)
    state = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    a = run_listen_probe(x, y, 3, cfg, fixed_split=(np.arange(0, 60, 2), np.arange(1, 60, 2)))
    b = run_listen_probe(x, y, 3, cfg, fixed_split=(np.arange(0, 60, 2), np.arange(1, 60, 2)))
    assert torch.equal(state[0], torch.get_rng_state()) and random.getstate() == state[2]
    assert np.array_equal(state[1], np.random.get_state()[1])
    assert all(np.array_equal(p.proba, q.proba) for p, q in zip(a, b))
    assert not np.array_equal(a[0].proba, a[1].proba)  # seeds differ in init and batch order
    assert all(np.trace(o.confusion) == 30 for o in a)


def test_plateau_schedule_halves_the_learning_rate():
    """ReduceLROnPlateau(0.5, patience 5) on the mean batch loss: constant labels → the loss plateaus."""
    x = torch.zeros(32, 4)
    y = torch.zeros(32, dtype=torch.long)
    head, loss = train_head(x, y, 2, ListenHeadConfig(epochs=60), seed=0)
    assert loss < 1e-3  # bias-only problem, learnt


def _tweak_log(path: Path, how: str) -> None:
    rows = list(csv.DictReader(path.open(newline="")))
    if how == "prob":
        rows[0]["prob_Mode1"] = str(float(rows[0]["prob_Mode1"]) + 1e-3)
    else:
        rows[3]["predicted_label"] = "Off" if rows[3]["predicted_label"] != "Off" else "On"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_reproduce_compares_clip_by_clip(tmp_path):
    root = write_release(tmp_path / "rel", per_class=2, models=("listen", "bc-resnet-3"))
    out = tmp_path / "ours"
    assert main(["reproduce", "listen-onsite", "--data-root", str(root), "--out", str(out), "--quiet",
                 "--cache-dir", str(tmp_path / "c")]) == 0  # no authors' logs: written, not compared
    logs = root / "Logs"
    logs.mkdir()
    for stem in ("LISTEN", "BC-ResNet-3"):  # our output as "the authors' log" → identical
        ours = next(out.glob(f"{stem}_inference_log_impact-bench_*[0-9].csv"))
        shutil.copy(ours, logs / f"{stem}_inference_log_20260101_000000_20.csv")
    reports = reproduce(root, SPEC, tmp_path / "again", cache_dir=tmp_path / "c", progress=False, log=lambda m: None)
    assert [r.passed for r in reports] == [True, True] and reports[0].max_abs_prob_diff < 1e-6
    assert reports[0].identical_predictions == 1.0 and reports[0].macro_f1_ours == reports[0].macro_f1_authors
    _tweak_log(logs / "LISTEN_inference_log_20260101_000000_20.csv", "prob")
    _tweak_log(logs / "BC-ResNet-3_inference_log_20260101_000000_20.csv", "label")
    args = ["reproduce", "listen-onsite", "--data-root", str(root), "--out", str(tmp_path / "again"), "--quiet",
            "--cache-dir", str(tmp_path / "c"), "--overwrite"]
    assert main(args) == 1
    reports = reproduce(root, SPEC, tmp_path / "again", cache_dir=tmp_path / "c", progress=False, overwrite=True,
                        log=lambda m: None)
    assert reports[0].passed is False and 9e-4 < reports[0].max_abs_prob_diff < 1.1e-3
    assert reports[1].passed is False and len(reports[1].differing_predictions) == 1
    with pytest.raises(DataError, match="MobileViT-XXS.pth, MobileViT-XXS-classifier.pth not in"):
        reproduce(root, SPEC, tmp_path / "x", ["mobilevit-xxs"], progress=False)


def test_embed_gives_the_runs_embeddings(tmp_path):
    root = write_release(tmp_path / "rel", per_class=2)
    ckpt = root / "Models" / "LISTEN.pth"
    assert main(["embed", "--encoder", "listen", "--checkpoint", str(ckpt), str(root / listen.TEST_DIR),
                 "--out", str(tmp_path / "e.npz"), "--batch-size", "7"]) == 0
    test = [c for c in listen.scan(root, SPEC).clips if c.release_split == "test"]
    ext = extract(build_encoder("listen", checkpoint=str(ckpt)), test, SPEC.audio, None, 32, False)
    z = np.load(tmp_path / "e.npz")
    rows = {f: e for f, e in zip(z["files"], z["embeddings"])}
    np.testing.assert_array_equal(np.stack([rows[str(c.path)] for c in test]), ext.embeddings)


@needs_release
def test_real_release_reproduces_the_authors_logs(tmp_path):
    reports = reproduce(Path(REAL), SPEC, tmp_path / "r", cache_dir=tmp_path / "c", progress=False, log=lambda m: None)
    assert reports and all(r.passed for r in reports if r.log is not None)
    assert all(r.max_abs_prob_diff <= 1e-4 and r.identical_predictions == 1.0 for r in reports)


@needs_release
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_real_weights_load_strictly(arch):
    path = Path(REAL) / "Models" / f"{RELEASE_FILES[arch]}.pth"
    if not path.is_file():
        pytest.skip(f"{path.name} is not in this copy of the release")
    assert_conforms(build_encoder(arch, checkpoint=str(path)))


# --- published rows and leaderboards ------------------------------------------------------------------

def test_listen_paper_rows_sit_beside_dinos_table3():
    from impact_bench.reference import published, published_also
    also = published_also(get_suite("dinos"))
    assert len(also) == 6 and all(set(rows) == {"ColdSpray", "RenishawL", "Yornew", "VF2"} for rows in also.values())
    assert also["LISTEN (LISTEN paper)"]["Yornew"][0] == 0.907 and also["IMPACT (LISTEN paper)"]["VF2"][0] == 0.952
    per_problem, per_class = published(SPEC)
    assert per_problem["LISTEN (paper, its data snapshot)"]["Onsite"][0] == 0.938
    for model, rows in per_class.items():  # the release-log rows: overall = mean of per-class F1
        assert set(rows) == set(CLASSES)
        assert abs(np.mean([v[0] for v in rows.values()]) - per_problem[model]["Onsite"][0]) < 1e-4


def test_listen_onsite_leaderboard_shows_published_rows_and_protocol(tmp_path):
    root = write_release(tmp_path / "rel", per_class=2)
    out = tmp_path / "out"
    assert main(["run", "--encoder", "logmel-stats", "--suite", "listen-onsite", "--data-root", str(root), "--seeds",
                 "2", "--out", str(out), "--no-cache", "--quiet"]) == 0
    board = tmp_path / "board.md"
    assert main(["leaderboard", *map(str, out.glob("*.json")), "-o", str(board)]) == 0
    text = board.read_text()
    assert "LISTEN (paper, its data snapshot)" in text and "| 0.9380 " in text and "LISTEN (release log)" in text
    assert "the release's own train/test sets" in text and "| Mode1 " in text and "| On " in text
    assert "Logs/LISTEN_inference_log_20260613_131701_1038_class_metrics.csv" in text  # provenance of the row


@needs_release
def test_published_rows_regenerate_from_the_release(tmp_path):
    import subprocess
    import sys
    script = Path(__file__).resolve().parents[1] / "scripts" / "published" / "listen_published.py"
    subprocess.run([sys.executable, str(script), "--listen-dir", REAL, "--out", str(tmp_path)], check=True)
    from importlib import resources
    for name in ("listen_paper_table.csv", "listen_onsite_published.csv", "listen_onsite_per_class.csv"):
        shipped = (resources.files("impact_bench.published") / name).read_text(encoding="utf-8")
        assert (tmp_path / name).read_text(encoding="utf-8") == shipped, name
