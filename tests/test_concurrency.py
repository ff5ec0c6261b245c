"""Two runs at once on one results file: the second stops with a clear error while the first holds the
lock, the first finishes undisturbed, and finished units of another configuration are never mixed in.
Real processes (the lock is an OS lock); the first one is held at a named point by the fault hook."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from impact_bench.pipeline import RunRequest, run
from impact_bench.results import load_results


def _cli(args: list[str], cwd: Path, env: dict[str, str] | None = None, wait: bool = True):
    argv = [sys.executable, "-m", "impact_bench.cli", "run", "--encoder", "logmel-stats", "--suite", "dinos-synth",
            "--quiet", *args]
    full_env = {**os.environ, **(env or {})}
    if wait:
        return subprocess.run(argv, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)
    return subprocess.Popen(argv, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_second_run_on_a_locked_results_file_stops_with_a_clear_error(tiny_tree, tmp_path):
    common = ["--data-root", str(tiny_tree), "--out", "res", "--no-cache"]
    env = {"IMPACT_BENCH_FAULT": "unit-write:pause", "IMPACT_BENCH_FAULT_DIR": str(tmp_path)}
    first = _cli([*common, "--seeds", "3"], tmp_path, env, wait=False)
    try:
        deadline = time.monotonic() + 240
        while not (tmp_path / "unit-write.reached").exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never reached its first unit"
            time.sleep(0.1)
        second = _cli([*common, "--seeds", "2"], tmp_path)
        assert second.returncode == 2, second.stderr
        assert "another run is writing" in second.stderr and ".lock" in second.stderr
        assert "Traceback" not in second.stderr
        assert not (tmp_path / "res" / "dinos-synth__logmel-stats.json").exists()
    finally:
        (tmp_path / "unit-write.go").write_text("")
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    res = load_results(tmp_path / "res" / "dinos-synth__logmel-stats.json")
    assert res["protocol"]["probe"]["seeds"] == 3
    assert all(len(p["seeds"]) == 3 for p in res["problems"])
    # the lock is released: the other configuration now gets the ordinary "exists" answer
    again = _cli([*common, "--seeds", "2"], tmp_path)
    assert again.returncode == 2 and "holds a different run" in again.stderr


def test_units_of_another_configuration_are_recomputed_not_mixed(tiny_tree, tmp_path, monkeypatch):
    from impact_bench.pipeline import classification
    real = classification.probe_unit

    def stop_at_second(problem, *a, **k):
        if problem.name == "VF2":
            raise KeyboardInterrupt
        return real(problem, *a, **k)

    base = dict(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, out=tmp_path, progress=False,
                use_cache=False)
    monkeypatch.setattr(classification, "probe_unit", stop_at_second)
    with pytest.raises(KeyboardInterrupt):
        run(RunRequest(seeds=3, **base), log=lambda m: None)
    unit = next(tmp_path.glob(".*.partial/problem-RenishawL.json"))
    of_a = unit.read_bytes()
    stamped = json.loads(of_a)
    assert len(stamped["unit"]["seeds"]) == 3 and len(stamped["run_fingerprint"]) == 64
    with pytest.raises(KeyboardInterrupt):  # run B (2 seeds) takes the folder over …
        run(RunRequest(seeds=2, **base), log=lambda m: None)
    unit.write_bytes(of_a)  # … and run A, still going, writes its unit into it (the race the issue reproduced)
    monkeypatch.setattr(classification, "probe_unit", real)
    logs: list[str] = []
    res = load_results(run(RunRequest(seeds=2, **base), log=logs.append))
    assert all(len(p["seeds"]) == 2 for p in res["problems"])
    assert any("different configuration" in m and "problem-RenishawL.json" in m for m in logs)


def test_stamped_unit_of_another_fingerprint_is_refused_with_a_notice(tmp_path):
    from impact_bench.pipeline import guard
    partial = tmp_path / ".x.partial"
    partial.mkdir()
    (partial / "u.json").write_text(json.dumps({"run_fingerprint": "a" * 64, "unit": {"v": 1}}))
    guard.remember_run_key(partial, "b" * 64)
    logs: list[str] = []
    assert guard.unit(partial, "u", lambda: {"v": 2}, logs.append) == {"v": 2}
    assert any("different configuration" in m for m in logs)
    assert json.loads((partial / "u.json").read_text()) == {"run_fingerprint": "b" * 64, "unit": {"v": 2}}
    logs.clear()
    assert guard.unit(partial, "u", lambda: {"v": 3}, logs.append) == {"v": 2} and not logs  # its own: reused
    (partial / "old.json").write_text(json.dumps({"v": 9}))  # unstamped (an older version)
    assert guard.unit(partial, "old", lambda: {"v": 4}, logs.append) == {"v": 4}
    assert any("no run fingerprint" in m for m in logs)


def test_results_file_that_appears_during_a_run_is_not_overwritten(tiny_tree, tmp_path, monkeypatch):
    from impact_bench.errors import ResultsError
    from impact_bench.pipeline import classification
    real = classification.probe_unit
    target = tmp_path / "dinos-synth__logmel-stats.json"

    def someone_writes(problem, *a, **k):  # a writer that ignores the lock (an older version, a copy by hand)
        if not target.exists():
            target.write_text(json.dumps({"run_fingerprint": "f" * 64}))
        return real(problem, *a, **k)

    monkeypatch.setattr(classification, "probe_unit", someone_writes)
    req = RunRequest(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, out=tmp_path, seeds=2,
                     progress=False, use_cache=False)
    with pytest.raises(ResultsError, match="appeared while this run was working"):
        run(req, log=lambda m: None)
    assert json.loads(target.read_text()) == {"run_fingerprint": "f" * 64}
    assert next(tmp_path.glob(".*.partial/problem-*.json"))  # finished work kept


def test_a_run_that_stops_with_an_error_releases_its_lock(tiny_tree, tmp_path, monkeypatch):
    from filelock import FileLock

    from impact_bench.pipeline import classification, guard

    def interrupted(problem, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(classification, "probe_unit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(RunRequest(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, out=tmp_path, seeds=1,
                       progress=False, use_cache=False), log=lambda m: None)
    assert guard.held() == []
    lock = FileLock(str(tmp_path / ".dinos-synth__logmel-stats.json.lock"), timeout=0)
    lock.acquire()  # another process (or this one) can take it at once
    lock.release()
