"""``impact-bench run`` entry points, kept for callers of earlier versions: the pipeline lives in
:mod:`impact_bench.pipeline` (options, shared prologue, one module per suite kind)."""
from __future__ import annotations

from impact_bench.pipeline import OptionError, RunRequest, check_existing, resolve_data_root, results_path, run

__all__ = ["run", "RunRequest", "OptionError", "check_existing", "resolve_data_root", "results_path"]
