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
