"""What keeps two runs, or a killed run, from mixing results: a lock per results file, finished units
stamped with the run's fingerprint, and results file + submission folder replaced as one unit.

- **Lock**: ``<out>/.<results file>.lock`` (the ``filelock`` package; an OS lock, released when the
  process ends, however it ends). A second run on the same results file while one holds it stops at
  once with an error naming the lock file; it never waits silently and never writes.
- **Stamped units**: each finished unit in the partial folder is ``{"run_fingerprint", "unit"}``; a unit
  of another configuration (or an unstamped one) is recomputed with a notice, never mixed in.
- **Swap**: the results file and the submission folder are both written into the partial folder, then
  a marker ``swap.json`` is written, then both are moved into place. A run killed during the moves
  leaves the marker; the next run on that results file (whatever its settings) completes the moves
  first, so the results file always describes the submission folder beside it.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable

from impact_bench import faults
from impact_bench.cache import atomic_write_bytes
from impact_bench.errors import ResultsError

Log = Callable[[str], None]
SWAP_MARKER = "swap.json"
_held: dict[Path, Any] = {}      # results file → its FileLock, while this process holds it
_run_keys: dict[Path, str] = {}  # partial folder → the run key of the run using it in this process


def lock_path(final: Path) -> Path:
    return final.parent / f".{final.name}.lock"


def acquire(final: Path) -> None:
    """Take the results file's lock, or say which run holds it (re-entrant within one process; ``pipeline.run``
    releases it when a run stops with an error)."""
    from filelock import FileLock, Timeout

    if final in _held:
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(final)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ResultsError(f"another run is writing {final} (lock file {lock_path(final)}); wait for it to finish, "
                           f"or use another --out") from None
    except OSError as exc:
        raise ResultsError(f"cannot create the lock file {lock_path(final)} ({exc.strerror}); is --out writable?") \
            from None
    _held[final] = lock


def held() -> list[Path]:
    """Results files whose lock this process holds."""
    return list(_held)


def release(final: Path) -> None:
    lock = _held.pop(final, None)
    if lock is not None:
        lock.release(force=True)


def remember_run_key(partial: Path, run_key: str) -> None:
    _run_keys[partial] = run_key


def _run_key_of(partial: Path) -> str | None:
    if partial in _run_keys:
        return _run_keys[partial]
    try:
        return json.loads((partial / "run.json").read_text()).get("run_fingerprint")
    except (OSError, ValueError, AttributeError):
        return None


def read_unit(path: Path, run_key: str | None, log: Log) -> dict[str, Any] | None:
    """A finished unit of this run, or None (absent, damaged, or made by another configuration)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        log(f"note: finished unit {path} is damaged ({type(exc).__name__}: {exc}); recomputing it")
        return None
    if not isinstance(data.get("unit"), dict) or "run_fingerprint" not in data:
        log(f"note: finished unit {path} carries no run fingerprint (an older version wrote it); recomputing it")
        return None
    if data["run_fingerprint"] != run_key:
        log(f"note: finished unit {path} was made by a different configuration (run fingerprint "
            f"{str(data['run_fingerprint'])[:12]}…, this run {str(run_key)[:12]}…); recomputing it")
        return None
    return data["unit"]


def unit(partial: Path, name: str, compute: Callable[[], dict[str, Any]], log: Log = print) -> dict[str, Any]:
    """One unit of work, computed once: read back from the partial folder when this run's configuration
    already finished it; written stamped with the run fingerprint."""
    path = partial / f"{name}.json"
    run_key = _run_key_of(partial)
    done = read_unit(path, run_key, log)
    if done is not None:
        return done
    result = compute()
    atomic_write_bytes(path, json.dumps({"run_fingerprint": run_key, "unit": result}, indent=1).encode())
    faults.point("unit-write")
    return result


def recheck_existing(final: Path, run_key: str, overwrite: bool, partial: Path) -> None:
    """Under the lock, just before the final write: the file must still be what the run saw at its start."""
    if overwrite or not final.exists():
        return
    try:
        old = json.loads(final.read_text()).get("run_fingerprint")
    except (OSError, ValueError, AttributeError):
        old = None
    if old != run_key:
        raise ResultsError(f"{final} appeared while this run was working and holds a different run; nothing was "
                           f"overwritten (finished work is kept in {partial}); pass --overwrite to replace it")


def swap_into_place(partial: Path, final: Path, results_bytes: bytes, staging: Path, folder: Path) -> None:
    """Results file + folder replaced as one unit (see the module docstring)."""
    staged = partial / "results.json"
    atomic_write_bytes(staged, results_bytes)
    marker = {"results": final.name, "folder": folder.name, "staged_results": staged.name,
              "staged_folder": staging.name, "written": time.time()}
    atomic_write_bytes(partial / SWAP_MARKER, json.dumps(marker).encode())
    _complete_swap(partial, final.parent, marker)


def _complete_swap(partial: Path, out: Path, marker: dict[str, Any]) -> None:
    """Idempotent: every step checks what is already done, so a kill anywhere is repaired by calling it again."""
    staged_folder, folder = partial / marker["staged_folder"], out / marker["folder"]
    old = partial / "replaced-folder"
    if staged_folder.exists():
        if folder.exists():
            if old.exists():
                shutil.rmtree(old)
            folder.replace(old)
        staged_folder.replace(folder)
    faults.point("anomaly-swap")
    staged = partial / marker["staged_results"]
    if staged.exists():
        staged.replace(out / marker["results"])
    (partial / SWAP_MARKER).unlink(missing_ok=True)
    shutil.rmtree(old, ignore_errors=True)


def repair_interrupted_swap(partial: Path, log: Log) -> bool:
    """Finish a swap a killed run left half done (call under the lock, before anything reads the results file)."""
    path = partial / SWAP_MARKER
    if not path.exists():
        return False
    try:
        marker = json.loads(path.read_text())
        _complete_swap(partial, partial.parent, marker)
    except (OSError, ValueError, KeyError) as exc:
        raise ResultsError(f"{path}: a run was killed while moving its results into place and the move cannot be "
                           f"completed ({exc}); check {partial.parent} by hand, then delete {partial}") from None
    log(f"note: completed the move of {marker['results']} and {marker['folder']}/ that a killed run left half done")
    shutil.rmtree(partial, ignore_errors=True)
    return True


def sweep_leftovers(final: Path) -> list[str]:
    """Temp files of this results file left by killed writes (only the lock holder writes it)."""
    gone = []
    for tmp in final.parent.glob(f".{final.name}.*.tmp"):
        tmp.unlink(missing_ok=True)
        gone.append(tmp.name)
    return gone
