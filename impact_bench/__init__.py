"""impact-bench: a benchmark for industrial machine-sound encoders.

The public entry points are the ``impact-bench`` command (see ``impact_bench.cli``) and the
library functions re-exported here.
"""
from __future__ import annotations

__version__ = "0.1.0"

from impact_bench.errors import ImpactBenchError  # noqa: E402

__all__ = ["__version__", "ImpactBenchError"]
