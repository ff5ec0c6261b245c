"""Fault injection at named points, for tests only: a SIGKILL cannot be timed to land between two
particular writes, so the code calls :func:`point` there and a test sets ``IMPACT_BENCH_FAULT``.

``IMPACT_BENCH_FAULT=NAME`` ends the process (``os._exit(137)``, as a SIGKILL would: no cleanup, no
flushing) the first time ``NAME`` is reached; ``NAME#N`` the N-th time; ``NAME:pause`` (or
``NAME#N:pause``) instead writes ``$IMPACT_BENCH_FAULT_DIR/NAME.reached`` and waits until
``NAME.go`` appears there (at most 10 minutes), so a test can act while a run is held at that point.
Unset (every ordinary run), :func:`point` is one dictionary look-up.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

ENV = "IMPACT_BENCH_FAULT"
DIR_ENV = "IMPACT_BENCH_FAULT_DIR"
POINTS = {
    "extract-batch": "after each batch of clips is embedded (before its cache shard may be written)",
    "unit-write": "after each finished unit (probe problem, anomaly set) is written to the partial folder",
    "results-write": "just before the results file is written",
    "anomaly-swap": "between moving the new submission folder into place and writing the results file",
    "checkpoint-save": "after each training checkpoint is written",
}
_hits: dict[str, int] = {}


def _parse(spec: str) -> tuple[str, int, bool]:
    name, _, mode = spec.partition(":")
    name, _, nth = name.partition("#")
    if name not in POINTS:
        raise ValueError(f"${ENV}={spec!r}: unknown fault point {name!r}; points: {', '.join(POINTS)}")
    return name, int(nth or 1), mode == "pause"


def point(name: str) -> None:
    """Kill (or pause) here when ``$IMPACT_BENCH_FAULT`` names this point; otherwise do nothing."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    target, nth, pause = _parse(spec)
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] != nth:
        return
    if not pause:
        os._exit(137)
    folder = Path(os.environ.get(DIR_ENV, "."))
    (folder / f"{name}.reached").write_text(str(os.getpid()))
    deadline = time.monotonic() + 600
    while not (folder / f"{name}.go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
