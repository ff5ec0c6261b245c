"""Kills at every named fault point (``impact_bench.faults``; ``os._exit(137)``, as a SIGKILL): the re-run
resumes to the results an uninterrupted run gives (timings, time stamps and cache counts aside) and never
calls a half-written result "up to date". Real processes: the kill must not run any cleanup."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from impact_bench import faults
from impact_bench.errors import ResultsError
from impact_bench.pipeline import RunRequest, run

pytestmark = pytest.mark.slow


def _cli(args: list[str], cwd: Path, fault: str) -> subprocess.CompletedProcess:
    env = {**os.environ, faults.ENV: fault}
    return subprocess.run([sys.executable, "-m", "impact_bench.cli", *args, "--quiet"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _comparable(path: Path) -> dict:
    """A results file without what legitimately differs between two runs of the same inputs."""
    res = json.loads(path.read_text())
    for key in ("timings", "provenance"):
        res.pop(key, None)
    for key in ("computed", "cached"):
        res["extraction"].pop(key, None)
    res["suite"]["notices"] = [n for n in res["suite"]["notices"] if "cache shard" not in n]
    return res


def test_unknown_fault_point_is_refused(monkeypatch):
    monkeypatch.setenv(faults.ENV, "extract-bach")
    with pytest.raises(ValueError, match="unknown fault point 'extract-bach'"):
        faults.point("extract-batch")


@pytest.mark.parametrize("fault", ["extract-batch#2", "unit-write", "unit-write#2", "results-write"])
def test_classification_run_killed_at_a_fault_point_resumes_to_identical_results(tiny_tree, tmp_path, fault):
    args = ["--encoder", "logmel-stats", "--suite", "dinos-synth", "--data-root", str(tiny_tree), "--seeds", "2",
            "--batch-size", "16"]
    killed = _cli(["run", *args, "--out", "cut"], tmp_path, fault)
    assert killed.returncode == 137, killed.stderr
    final = tmp_path / "cut" / "dinos-synth__logmel-stats.json"
    assert not final.exists()
    logs: list[str] = []
    req = dict(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, seeds=2, batch_size=16,
               progress=False)
    assert run(RunRequest(out=tmp_path / "cut", **req), log=logs.append) == final
    assert not any("up to date" in m for m in logs)
    if fault.startswith("unit-write"):
        assert any("resuming from" in m for m in logs)
    ref = run(RunRequest(out=tmp_path / "ref", use_cache=False, **req), log=lambda m: None)
    assert _comparable(final) == _comparable(ref)
    assert sorted(p.name for p in (tmp_path / "cut").iterdir()) == [".dinos-synth__logmel-stats.json.lock",
                                                                    final.name]  # no .tmp, no .partial


@pytest.fixture(scope="module")
def dcase_tree(tmp_path_factory) -> Path:
    from impact_bench.suites.catalog import get_suite
    from impact_bench.synth.catalog import write_suite_data
    root = tmp_path_factory.mktemp("dcase2020")
    write_suite_data(get_suite("dcase2020-synth"), root, 0.01, machines=1, progress=False)
    return root


def test_anomaly_overwrite_killed_mid_swap_is_completed_by_the_next_run(dcase_tree, tmp_path):
    base = dict(encoder="logmel-stats", suite="dcase2020-synth", data_root=dcase_tree, progress=False)
    old = run(RunRequest(out=tmp_path / "out", **base), log=lambda m: None)
    old_key = json.loads(old.read_text())["run_fingerprint"]
    folder = old.parent / f"{old.stem}.submission"
    args = ["run", "--encoder", "logmel-stats", "--suite", "dcase2020-synth", "--data-root", str(dcase_tree),
            "--out", "out", "--backend-opt", "metric=euclidean", "--overwrite"]
    killed = _cli(args, tmp_path, "anomaly-swap")
    assert killed.returncode == 137, killed.stderr
    assert json.loads(old.read_text())["run_fingerprint"] == old_key  # old results beside the new folder …
    assert (tmp_path / "out" / f".{old.stem}.partial" / "swap.json").exists()  # … and the marker that says so
    logs: list[str] = []
    with pytest.raises(ResultsError, match="holds a different run"):  # the old command: never "up to date"
        run(RunRequest(out=tmp_path / "out", **base), log=logs.append)
    assert any("completed the move" in m for m in logs) and not any("up to date" in m for m in logs)
    new = json.loads(old.read_text())
    assert new["run_fingerprint"] != old_key and new["protocol"]["backend"]["metric"] == "euclidean"
    ref = run(RunRequest(out=tmp_path / "ref", backend={"metric": "euclidean"}, **base), log=lambda m: None)
    assert _comparable(old)["sets"] == _comparable(ref)["sets"]
    for entry in new["sets"].values():  # names the final folder, relative to the results file
        assert entry["submission"].startswith(folder.name + "/") and (old.parent / entry["submission"]).is_dir()
    ref_folder = ref.parent / f"{ref.stem}.submission"
    for csv in ref_folder.rglob("*.csv"):
        assert (folder / csv.relative_to(ref_folder)).read_bytes() == csv.read_bytes()


def _write_wav(path: Path, data: np.ndarray, rate: int = 48_000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, rate, subtype="PCM_16")


def test_training_killed_after_a_checkpoint_resumes_bit_exactly(tmp_path):
    import torch

    from impact_bench.impact.checkpoint import read_checkpoint
    corpus = tmp_path / "corpus" / "DINOS_Pretrain"
    rng = np.random.default_rng(0)
    t = np.arange(4 * 48_000) / 48_000
    for i, f0 in enumerate((440.0, 1200.0)):
        _write_wav(corpus / "CNC" / f"tone{i}.wav", (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32))
    for i in range(2):
        _write_wav(corpus / "ShopFloor" / f"n{i}.wav", (0.1 * rng.standard_normal(4 * 48_000)).astype(np.float32))
    flags = ["train", "--data", str(corpus.parent), "--epochs", "3", "--set", "model.embed_dim=32", "--set",
             "model.depth=2", "--set", "model.num_heads=4", "--set", "objective.decoder_dim=16", "--set",
             "objective.clones=4", "--batch-size", "8", "--lr", "1e-3"]
    killed = _cli([*flags, "--out", "cut"], tmp_path, "checkpoint-save#2")
    assert killed.returncode == 137, killed.stderr
    saved = sorted((tmp_path / "cut").glob("*.pth"))
    assert [p.name for p in saved] == ["impact_DINOS_epoch_0001.pth", "impact_DINOS_epoch_0002.pth"]
    from impact_bench.cli import main
    assert main(["train", "--data", str(corpus.parent), "--epochs", "3", "--out", str(tmp_path / "cut"), "--resume",
                 str(saved[-1]), "--quiet"]) == 0
    assert main([*flags, "--out", str(tmp_path / "full"), "--quiet"]) == 0
    a = read_checkpoint(tmp_path / "full" / "impact_DINOS_epoch_0003.pth")["model_state_dict"]
    b = read_checkpoint(tmp_path / "cut" / "impact_DINOS_epoch_0003.pth")["model_state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
