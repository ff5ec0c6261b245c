"""Faults a careful user meets: damaged cache shards and partial units, file permissions, global RNG use
by encoder construction and the KNN speed probe, provenance of an installed copy."""
from __future__ import annotations

import os
import random
import stat

import numpy as np
import pytest
import torch

from impact_bench.cache import EmbeddingCache, atomic_write_bytes
from impact_bench.encoders.catalog import build_encoder
from impact_bench.pipeline import RunRequest, run
from impact_bench.results import load_results


def _rng_state():
    return random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state().clone()


def _same(a, b) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and torch.equal(a[2], b[2])


def test_damaged_shard_is_reported_moved_aside_and_recomputed(tiny_tree, tmp_path):
    cache = tmp_path / "cache"
    req = dict(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, seeds=2, progress=False,
               cache_dir=cache)
    first = load_results(run(RunRequest(out=tmp_path / "a", **req), log=lambda m: None))
    shard = next(cache.rglob("shard-*.npz"))
    shard.write_bytes(shard.read_bytes()[: len(shard.read_bytes()) // 2])  # truncated inside the zip
    logs: list[str] = []
    second = load_results(run(RunRequest(out=tmp_path / "b", **req), log=logs.append))
    assert any("damaged cache shard" in m and shard.name in m for m in logs)
    assert (shard.parent / (shard.name + ".damaged")).exists() and not shard.exists()
    assert second["extraction"]["computed"] > 0
    assert second["problems"] == first["problems"]  # recomputed rows equal the lost ones


def test_shard_checksum_catches_silent_corruption(tmp_path):
    cache = EmbeddingCache(tmp_path, {"k": 1})
    cache.store(["a", "b"], np.ones((2, 3), np.float32))
    shard = next(tmp_path.rglob("shard-*.npz"))
    with np.load(shard) as z:
        data = dict(z)
    data["embeddings"][0, 0] = 7.0  # a flipped value, still a valid npz
    np.savez(shard, **data)
    fresh = EmbeddingCache(tmp_path, {"k": 1})
    assert fresh.lookup(["a", "b"]) == {} and "checksum mismatch" in fresh.notices[0]


def test_damaged_partial_unit_is_recomputed_with_a_notice(tiny_tree, tmp_path, monkeypatch):
    from impact_bench.pipeline import classification
    real = classification.probe_unit

    def stop_after_first(problem, *a, **k):
        if problem.name == "VF2":
            raise KeyboardInterrupt
        return real(problem, *a, **k)

    monkeypatch.setattr(classification, "probe_unit", stop_after_first)
    req = RunRequest(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, out=tmp_path, seeds=2,
                     progress=False, use_cache=False)
    with pytest.raises(KeyboardInterrupt):
        run(req, log=lambda m: None)
    unit = next(tmp_path.glob(".*.partial/problem-RenishawL.json"))
    unit.write_text('{"name": "Renish')  # killed mid-write by something other than us
    monkeypatch.setattr(classification, "probe_unit", real)
    logs: list[str] = []
    assert run(req, log=logs.append).is_file()
    assert any("is damaged" in m and "problem-RenishawL.json" in m for m in logs)


def test_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "x.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o644


@pytest.mark.parametrize("name,opts", [("impact", {"random_init_seed": 0}), ("listen", {"random_init_seed": 0}),
                                       ("logmel-stats", {})])
def test_building_an_encoder_leaves_the_global_rngs_alone(name, opts):
    before = _rng_state()
    build_encoder(name, options=opts)
    assert _same(before, _rng_state())


def test_knn_speed_probe_leaves_the_global_rng_alone():
    from impact_bench.anomaly import knn
    knn._BF16_FAST = None
    before = _rng_state()
    knn.bf16_is_fast()
    assert _same(before, _rng_state())


def test_provenance_commit_only_for_a_source_checkout(monkeypatch, tmp_path):
    from impact_bench import results
    fake = tmp_path / "site" / "impact_bench"
    fake.mkdir(parents=True)
    monkeypatch.setattr(results, "__file__", str(fake / "results.py"))
    assert results.git_commit() is None  # no impact-bench pyproject beside it


@pytest.mark.parametrize("text,message", [
    ("machine,folder\n", "expected header 'machine,folder,task'"),
    ("machine,folder,task\n", "has a header but no rows"),
    ("machine,folder,task\nYornew,no-such-folder,T12\n", "rows name class folders that do not exist"),
])
def test_class_map_problems_are_errors(tiny_tree, tmp_path, text, message):
    from impact_bench.errors import DataError
    from impact_bench.suites import dinos
    from impact_bench.suites.catalog import get_suite
    path = tmp_path / "map.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        dinos.scan(tiny_tree, get_suite("dinos-synth"), path)
    path.write_text("machine,folder,task\n", encoding="utf-16")
    with pytest.raises(DataError, match="not UTF-8|expected header"):
        dinos.scan(tiny_tree, get_suite("dinos-synth"), path)


def test_leaderboard_never_overwrites_inputs_folders_or_foreign_files(tiny_tree, tmp_path, capsys):
    from impact_bench.cli import main
    res = run(RunRequest(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, out=tmp_path / "r", seeds=2,
                         progress=False, use_cache=False), log=lambda m: None)
    original = res.read_bytes()
    assert main(["leaderboard", str(res), "-o", str(res), "--no-figures"]) == 2
    assert "is one of the results files given as input" in capsys.readouterr().err and res.read_bytes() == original
    assert main(["leaderboard", str(res), "-o", str(tmp_path), "--no-figures"]) == 2
    assert "is a folder" in capsys.readouterr().err
    notes = tmp_path / "notes.md"
    notes.write_text("my own notes\n")
    assert main(["leaderboard", str(res), "-o", str(notes), "--no-figures"]) == 2
    assert "not written by impact-bench" in capsys.readouterr().err and notes.read_text() == "my own notes\n"
    board = tmp_path / "board.md"
    assert main(["leaderboard", str(res), "-o", str(board), "--no-figures"]) == 0
    assert main(["leaderboard", str(res), "-o", str(board), "--no-figures"]) == 0  # its own page: replaced
    assert main(["leaderboard", str(res), "-o", str(notes), "--no-figures", "--overwrite"]) == 0


def test_out_pointing_at_a_file_is_a_clear_error(tmp_path, capsys):
    from impact_bench.cli import main
    target = tmp_path / "results.json"
    target.write_text("{}")
    assert main(["run", "--encoder", "logmel-stats", "--suite", "dinos-synth", "--out", str(target)]) == 2
    assert "is a file; --out names the folder" in capsys.readouterr().err and target.read_text() == "{}"


def _suspect_tree(tree_copy):
    """Five suspect files in a 48-kHz mono 16-bit suite (each replaces one ordinary file)."""
    import soundfile as sf
    files = sorted(tree_copy.rglob("*.wav"))
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(48_000)).astype(np.float32)
    sf.write(str(files[0]), wave, 48_000, subtype="PCM_16")
    files[0].write_bytes(files[0].read_bytes()[: 44 + 2 * 30_000])  # cut inside its data
    sf.write(str(files[1]), wave[:48], 48_000, subtype="PCM_16")  # 1 ms
    sf.write(str(files[2]), wave[:8_000], 8_000, subtype="PCM_16")
    sf.write(str(files[3]), np.tile(wave[:, None], (1, 8)), 48_000, subtype="PCM_16")
    sf.write(str(files[4]), wave, 48_000, subtype="PCM_24")
    return [f.relative_to(tree_copy).as_posix() for f in files[:5]]


def test_suspect_audio_is_counted_listed_and_refused_under_strict(tree_copy, tmp_path):
    from impact_bench.audio_notices import wav_promised_frames
    from impact_bench.errors import DataError
    names = _suspect_tree(tree_copy)
    assert wav_promised_frames(tree_copy / names[0]) == 48_000 and wav_promised_frames(tree_copy / names[1]) is None
    logs: list[str] = []
    req = dict(encoder="logmel-stats", suite="dinos-synth", data_root=tree_copy, seeds=1, progress=False,
               use_cache=False)
    res = load_results(run(RunRequest(out=tmp_path / "a", **req), log=logs.append))
    found = res["suite"]["audio_notices"]
    assert {k: v["count"] for k, v in found.items()} == {"truncated": 1, "short": 1, "mixed-rates": 1,
                                                        "multichannel": 1, "bit-depth": 1}
    assert found["truncated"]["files"] == [f"{names[0]} (30000 of 48000 frames)"]
    assert found["short"]["files"] == [f"{names[1]} (0.001 s)"]
    assert names[2] in found["mixed-rates"]["files"][0] and names[3] in found["multichannel"]["files"][0]
    assert found["bit-depth"]["files"] == [f"{names[4]} (PCM_24; most files PCM_16)"]
    assert sum("suspect audio (" in n for n in res["suite"]["notices"]) == 5
    assert any(m.startswith("suspect audio: 1 truncated, 1 short, 1 mixed-rates, 1 multichannel, 1 bit-depth")
               for m in logs)
    assert res["extraction"]["native_sample_rates"] == {"8000": 1, "48000": 299}
    with pytest.raises(DataError, match="--strict: suspect audio \\(truncated\\)"):
        run(RunRequest(out=tmp_path / "b", strict=True, **req), log=lambda m: None)
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


def test_warm_cache_run_gives_the_same_results_file(tiny_tree, tmp_path):
    req = dict(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, seeds=1, progress=False,
               cache_dir=tmp_path / "cache")
    cold = load_results(run(RunRequest(out=tmp_path / "a", **req), log=lambda m: None))
    leftover = tmp_path / "b" / ".dinos-synth__logmel-stats.json.x1y2.tmp"  # a write killed by an earlier run
    leftover.parent.mkdir()
    leftover.write_text("{")
    warm = load_results(run(RunRequest(out=tmp_path / "b", **req), log=lambda m: None))
    assert not leftover.exists() and not list((tmp_path / "b").glob(".*.partial"))
    assert warm["extraction"]["cached"] == 300 and cold["extraction"]["computed"] == 300
    for res in (cold, warm):
        for key in ("timings", "provenance"):
            res.pop(key)
        for key in ("computed", "cached"):
            res["extraction"].pop(key)
    assert cold == warm


def test_audio_duplicated_across_train_and_test_is_a_notice(tree_copy, tmp_path):
    from impact_bench.errors import DataError
    train = sorted((tree_copy / "DINOS_Downstreams_train").rglob("*.wav"))[0]
    twin = tree_copy / "DINOS_Downstreams_test" / train.relative_to(tree_copy / "DINOS_Downstreams_train")
    twin = twin.with_name("copy-" + twin.name)
    twin.write_bytes(train.read_bytes())
    req = dict(encoder="logmel-stats", suite="dinos-synth", data_root=tree_copy, seeds=1, progress=False,
               use_cache=False)
    import soundfile as sf
    other = sorted((tree_copy / "DINOS_Downstreams_train").rglob("*.wav"))[1]
    recoded = twin.with_name("24bit-" + other.name)
    data, rate = sf.read(str(other), dtype="float32")
    sf.write(str(recoded), data, rate, subtype="PCM_24")  # the same samples, 24-bit
    res = load_results(run(RunRequest(out=tmp_path / "a", **req), log=lambda m: None))
    dup = [n for n in res["suite"]["notices"] if n.startswith("audio duplicated across train and test")]
    assert len(dup) == 2 and train.name in dup[0] and twin.name in dup[0]
    assert "another sample format" in dup[1] and recoded.name in dup[1] and other.name in dup[1]
    with pytest.raises(DataError, match="--strict: audio duplicated across train and test"):
        run(RunRequest(out=tmp_path / "b", strict=True, **req), log=lambda m: None)


@pytest.mark.parametrize("stage", ["marker written", "old folder moved aside", "folder swapped"])
def test_interrupted_swap_is_completed_at_every_stage(tmp_path, stage):
    import json

    from impact_bench.pipeline import guard
    out, partial = tmp_path, tmp_path / ".r.partial"
    (out / "r.submission").mkdir()
    (out / "r.submission" / "a.csv").write_text("old")
    (out / "r.json").write_text('{"v": "old"}')
    (partial / "submission").mkdir(parents=True)
    (partial / "submission" / "a.csv").write_text("new")
    (partial / "results.json").write_text('{"v": "new"}')
    (partial / "swap.json").write_text(json.dumps({"results": "r.json", "folder": "r.submission",
                                                   "staged_results": "results.json", "staged_folder": "submission"}))
    if stage != "marker written":
        (out / "r.submission").replace(partial / "replaced-folder")
    if stage == "folder swapped":
        (partial / "submission").replace(out / "r.submission")
    logs: list[str] = []
    assert guard.repair_interrupted_swap(partial, logs.append)
    assert (out / "r.submission" / "a.csv").read_text() == "new" and json.loads((out / "r.json").read_text()) == {
        "v": "new"}
    assert not partial.exists() and "completed the move" in logs[0]
    assert not guard.repair_interrupted_swap(partial, logs.append)  # nothing left to do


def test_stale_shard_temp_files_are_swept_fresh_ones_kept(tmp_path):
    first = EmbeddingCache(tmp_path, {"k": 1})
    stale, fresh = first.dir / ".shard-a.npz.x1.tmp", first.dir / ".shard-b.npz.x2.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    os.utime(stale, (0, 0))
    EmbeddingCache(tmp_path, {"k": 1})
    assert not stale.exists() and fresh.exists()
