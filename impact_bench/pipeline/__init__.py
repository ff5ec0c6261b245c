"""The run pipeline: one entry point (:func:`run`) that dispatches on the suite's kind.

- :mod:`.options`: :class:`RunRequest` — common options plus one option group per kind; options that do
  not apply to the suite are refused;
- :mod:`.common`: the prologue (data, encoder, hashes, run key, resume) and the results header;
- :mod:`.classification`: probe suites (DINOS, LISTEN on-site);
- :mod:`.anomaly`: anomaly suites (unsupervised back ends with official metrics; MIMII protocol (b)).

Under ``torchrun`` (``torchrun --nproc_per_node N -m impact_bench.cli run …``) the ranks share the
embedding work through the cache (see ``extract``); only rank 0 scores and writes files.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from impact_bench import distributed
from impact_bench.pipeline import guard
from impact_bench.pipeline.common import check_existing, resolve_data_root, results_path
from impact_bench.pipeline.options import OptionError, RunRequest, with_channel
from impact_bench.suites.catalog import get_suite
from impact_bench.suites.spec import AnomalySuiteSpec

__all__ = ["run", "RunRequest", "OptionError", "check_existing", "resolve_data_root", "results_path"]


def _silent(_message: str) -> None:
    pass


def run(req: RunRequest, log: Callable[[str], None] = print) -> Path | None:
    """Path of the results file (None on the helper ranks of a torchrun extraction)."""
    ranks = distributed.setup(req.device)
    if not ranks.is_main:
        log = _silent
    spec = with_channel(req, get_suite(req.suite, req.tasks_dirs))  # --channel: the stereo suites' policy
    held = set(guard.held())
    try:
        if isinstance(spec, AnomalySuiteSpec):
            from impact_bench.pipeline.anomaly import run_anomaly
            return run_anomaly(req, spec, ranks, log)
        from impact_bench.pipeline.classification import run_classification
        return run_classification(req, spec, ranks, log)
    finally:  # a run that stopped with an error releases the results-file lock it took (docs/reliability.md)
        for final in set(guard.held()) - held:
            guard.release(final)
