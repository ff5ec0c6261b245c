"""DCASE 2026 Task 2 (near/far stereo): synthetic tree in the official layout, channel policies, the
channel-count errors of the mono (2020–2025) and stereo (2026) suites, and a small end-to-end run."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from impact_bench.anomaly.dataset import scan_dcase
from impact_bench.encoders.catalog import build_encoder
from impact_bench.errors import DataError, TaskFileError
from impact_bench.extract import extract, frontend, load_for_encoder
from impact_bench.pipeline.options import OptionError, check_options
from impact_bench.runner import RunRequest, run
from impact_bench.suites.catalog import get_suite
from impact_bench.suites.spec import load_suite_file
from impact_bench.synth import dcase_synth as ds
from impact_bench.synth.catalog import write_suite_data

SCALE = 0.01  # minimum counts: 10 source + 1 target training clips, 3 test clips per domain x label


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dcase2026")
    write_suite_data(get_suite("dcase2026-synth"), root, SCALE, machines=1, progress=False)
    return root


@pytest.fixture(scope="module")
def encoder():
    return build_encoder("logmel-stats")


def test_suite_files_match_the_baseline_repository():
    real, synth = get_suite("dcase2026"), get_suite("dcase2026-synth")
    # nttcslab/dcase2023_task2_baseline_ae datasets/machine_type_2026_{dev,eval}.yaml
    assert set(real.data.machines["dev"]) == {"ToyCarEmu", "ToyCar", "bearingEmu", "fan", "gearboxEmu",
                                              "sliderEmu", "valveEmu"}
    assert set(real.data.machines["eval"]) == {"ToyDrone", "ToothBrush", "SewingMachine", "BlowerDustCollector",
                                               "Sander"}
    assert (real.audio.channels, real.audio.channel_policy) == (2, "near")   # baseline: y[0], the near mic
    assert synth.synthetic and synth.data.generator == "dcase-synth" and synth.data.year == 2026
    assert get_suite("dcase2025").audio.channels == 1 and get_suite("dcase2025").audio.channel_policy is None


def test_channel_policy_needs_a_stereo_suite(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = Path(get_suite("dcase2025").source_file).read_text().replace(
        "  waveform_norm: none", "  waveform_norm: none\n  channel_policy: far", 1)
    bad.write_text(text)
    with pytest.raises(TaskFileError, match="channel_policy"):
        load_suite_file(bad)


def test_synth_tree_has_the_2025_layout_in_stereo(tree):
    index = scan_dcase(tree, 2026, ("dev", "eval"), get_suite("dcase2026-synth").data.machines)
    dev = [c for c in index.clips if c.set == "dev"]
    assert {c.machine for c in dev} == {"ToyCar"}
    train = [c for c in dev if c.split == "train"]
    assert sum(c.domain == "source" for c in train) == 10 and sum(c.domain == "target" for c in train) == 1
    test = [c for c in dev if c.split == "test"]
    assert {(c.domain, c.label) for c in test} == {(d, lab) for d in ("source", "target") for lab in ("normal", "anomaly")}
    assert len(test) == 12 and all(c.unit == "section_00" and c.attributes for c in dev)
    assert Path(train[0].relpath).name.startswith("section_00_source_train_normal_0000_")
    hidden = [c for c in index.clips if c.set == "eval" and c.split == "test"]
    assert len(hidden) == 12 and all(c.label is None and c.domain is None for c in hidden)
    assert Path(hidden[0].relpath).name == "section_00_0000.wav"
    assert (tree / "ground_truth" / "ground_truth_data" / "ground_truth_ToyDrone_section_00_test.csv").is_file()
    assert (tree / "dev_data" / "ToyCar" / "attributes_00.csv").is_file()
    info = sf.info(str(train[0].path))
    assert (info.channels, info.samplerate, info.subtype, info.duration) == (2, 16000, "PCM_16", 10.0)


def test_machine_with_training_clips_only_is_listed_not_scored(tree, tmp_path):
    """The real 2026 eval set: additional training data published, test clips not yet."""
    root = tmp_path / "d"
    (root / "eval_data" / "Sander" / "train").mkdir(parents=True)
    (root / "dev_data").symlink_to(tree / "dev_data")
    index = scan_dcase(root, 2026, ("dev", "eval"))
    assert {c.set for c in index.clips} == {"dev"}
    assert any("eval/Sander: training clips only" in n for n in index.notices)


def test_far_channel_physics():
    """Far microphone: weaker direct sound (1/r), later (propagation delay), lower direct-to-reverberant
    ratio, and more factory noise than the near one; deterministic."""
    room = ds.room_of("fan", "00")
    r = np.random.default_rng(0)
    x = ds.machine_sound("fan", 40.0, None, r)
    quiet = np.zeros_like(x)
    dry = ds.two_microphones(x, quiet, "A", room, np.random.default_rng(1))
    near, far = dry[:, 0], dry[:, 1]
    assert far.std() < 0.8 * near.std()
    delay = int(round((room.far_m - ds.NEAR_M) / ds.SOUND_SPEED * ds.SR))
    lag = np.argmax(np.correlate(far[:4000], x[:2000], "valid"))
    assert abs(lag - delay) <= 1
    drr_near = (np.corrcoef(near, x)[0, 1]) ** 2
    drr_far = (np.corrcoef(far[delay:], x[:len(x) - delay])[0, 1]) ** 2
    assert drr_far < drr_near
    noise = ds.background("A", len(x), np.random.default_rng(2)) * 0.5
    wet = ds.two_microphones(quiet, noise, "A", room, np.random.default_rng(3))
    assert wet[:, 1].std() > wet[:, 0].std()
    p = ds.plan(2026, {"dev": ("fan",)}, SCALE)[0]
    assert np.array_equal(ds.render(2026, p), ds.render(2026, p)) and ds.render(2026, p).shape == (160_000, 2)
    assert ds.render(2025, ds.plan(2025, {"dev": ("fan",)}, SCALE)[0]).ndim == 1  # earlier years stay mono


def _spec(policy: str):
    audio = get_suite("dcase2026-synth").audio
    return audio.model_copy(update={"channel_policy": policy})


def test_channel_policies_give_different_embeddings_and_both_concatenates(tree, encoder, tmp_path):
    index = scan_dcase(tree, 2026, ("dev",))
    clips = [c for c in index.clips if c.split == "test"][:4]
    cache = tmp_path / "cache"
    got = {p: extract(encoder, clips, _spec(p), cache, progress=False) for p in ("near", "far", "mean")}
    d = encoder.embedding_dim
    assert all(e.embeddings.shape == (4, d) for e in got.values())
    assert not np.allclose(got["near"].embeddings, got["far"].embeddings)
    assert not np.allclose(got["mean"].embeddings, got["near"].embeddings)
    assert not np.allclose(got["mean"].embeddings, got["far"].embeddings)
    keys = {p: e.policy["cache_key"] for p, e in got.items()}
    assert len(set(keys.values())) == 3                       # one cache entry per channel policy
    assert len({json.dumps(frontend(_spec(p)), sort_keys=True) for p in ("near", "far", "mean", "both")}) == 4
    both = extract(encoder, clips, _spec("both"), cache, progress=False)
    assert both.embeddings.shape == (4, 2 * d)
    np.testing.assert_array_equal(both.embeddings, np.hstack([got["near"].embeddings, got["far"].embeddings]))
    assert (both.cached, both.computed) == (8, 0)               # reuses the near and far cache entries
    assert both.policy["cache_key"] == f"{keys['near']}+{keys['far']}"
    # near is channel 0 of the file, as the official baseline (loader_common.file_load: y[0])
    wave, _ = load_for_encoder(clips[0].path, _spec("near"), 16000, 160_000)
    left = sf.read(str(clips[0].path), dtype="float32")[0][:, 0]
    np.testing.assert_allclose(wave[0][:len(left)], left, atol=1e-6)


def test_mono_file_in_2026_and_stereo_file_in_2025_are_errors_naming_the_file(tree, tmp_path):
    mono = tmp_path / "section_00_source_train_normal_0000_a.wav"
    sf.write(str(mono), np.zeros(16000, np.float32) + 0.01, 16000)
    with pytest.raises(DataError, match=r"section_00_source_train_normal_0000_a\.wav: has 1 channel\(s\); "
                                        r"this suite expects 2 channels \(near/far stereo"):
        load_for_encoder(mono, get_suite("dcase2026").audio, 16000, 16000)
    stereo = next((tree / "dev_data" / "ToyCar" / "train").glob("*.wav"))
    with pytest.raises(DataError, match=rf"{stereo.name}: has 2 channel\(s\); this suite expects 1 channel \(mono"):
        load_for_encoder(stereo, get_suite("dcase2025").audio, 16000, 16000)


def test_channel_option_only_for_stereo_suites():
    req = RunRequest(encoder="logmel-stats", suite="dcase2025-synth", channel="far")
    with pytest.raises(OptionError, match="--channel does not apply to suite dcase2024-synth"):
        check_options(RunRequest(encoder="logmel-stats", suite="x", channel="far"), get_suite("dcase2024-synth"))
    with pytest.raises(OptionError, match="--channel does not apply to suite dinos-synth"):
        check_options(req, get_suite("dinos-synth"))
    with pytest.raises(OptionError, match="--channel must be one of near, far, mean, both"):
        check_options(RunRequest(encoder="logmel-stats", suite="x", channel="left"), get_suite("dcase2026-synth"))
    assert check_options(RunRequest(encoder="e", suite="x", channel="both"), get_suite("dcase2026"))["channel"] == "both"


def test_run_on_dcase2026_synth_records_the_channel(tree, tmp_path):
    common = dict(encoder="logmel-stats", suite="dcase2026-synth", data_root=tree, out=tmp_path / "res",
                  cache_dir=tmp_path / "cache", progress=False, machines=("ToyCar", "ToyDrone"))
    near = json.loads(Path(run(RunRequest(**common), log=lambda _m: None)).read_text())
    far_path = Path(run(RunRequest(**common, channel="far"), log=lambda _m: None))
    far = json.loads(far_path.read_text())
    assert near["encoder"]["label"] == "logmel-stats" and far["encoder"]["label"] == "logmel-stats+far"
    assert far["options"]["channel"] == "far" and "channel" not in near["options"]
    assert near["protocol"]["frontend"]["channel_policy"].startswith("near: channel 0")
    assert far["protocol"]["frontend"]["channel_policy"].startswith("far: channel 1")
    assert near["extraction"]["channels"] == {"2": 46}
    for res in (near, far):
        assert set(res["sets"]) == {"dev", "eval"} and all(e["scored"] for e in res["sets"].values())
        assert res["sets"]["eval"]["labels_from"].endswith("ground_truth")
        assert 0 < res["summary"]["dev"] <= 1
    assert near["summary"]["dev"] != far["summary"]["dev"]
