"""impact-bench: a benchmark for industrial machine-sound encoders.

The public entry points are the ``impact-bench`` command (see ``impact_bench.cli``) and the
library API below. ``import impact_bench`` is cheap: each name is imported on first use (PEP 562),
so torch, scikit-learn and pandas load only when you reach for something that needs them.

Score an encoder on a suite and render a leaderboard::

    from pathlib import Path
    import impact_bench as ib

    ib.run(ib.RunRequest(encoder="logmel-stats", suite="dinos-synth", out=Path("results"),
                         data_root=Path("data/dinos-synth")))
    ib.build_leaderboard([Path("results/dinos-synth__logmel-stats.json")], Path("board.md"))
    res = ib.load_results(Path("results/dinos-synth__logmel-stats.json"))

Bring your own encoder (any object with the :class:`Encoder` attributes and ``embed``)::

    enc = ib.build_encoder("path/to/my_encoder.py:MyEncoder", device="cpu")
    assert isinstance(enc, ib.Encoder)
    ib.assert_conforms(enc)            # shapes, determinism, batching, … (raises AssertionError)
    suite = ib.get_suite("dinos")      # the validated suite definition (tasks, problems, protocol)

Errors a user can cause are raised as :class:`ImpactBenchError` subclasses (``impact_bench.errors``).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from impact_bench.errors import ImpactBenchError  # noqa: E402  (no third-party imports)

# public name -> (module, attribute in that module); imported on first access
_LAZY: dict[str, tuple[str, str]] = {
    "run": ("impact_bench.runner", "run"),
    "RunRequest": ("impact_bench.runner", "RunRequest"),
    "build_encoder": ("impact_bench.encoders.catalog", "build_encoder"),
    "build_leaderboard": ("impact_bench.leaderboards", "build"),
    "load_results": ("impact_bench.results", "load_results"),
    "get_suite": ("impact_bench.suites.catalog", "get_suite"),
    "Encoder": ("impact_bench.encoders.protocol", "Encoder"),
    "assert_conforms": ("impact_bench.encoders.conformance", "assert_conforms"),
}

__all__ = ["__version__", "ImpactBenchError", *_LAZY]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ below resolves these
    from impact_bench.encoders.catalog import build_encoder  # noqa: F401
    from impact_bench.encoders.conformance import assert_conforms  # noqa: F401
    from impact_bench.encoders.protocol import Encoder  # noqa: F401
    from impact_bench.leaderboards import build as build_leaderboard  # noqa: F401
    from impact_bench.results import load_results  # noqa: F401
    from impact_bench.runner import RunRequest, run  # noqa: F401
    from impact_bench.suites.catalog import get_suite  # noqa: F401


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


_HELPERS = {"annotations", "importlib", "Any", "TYPE_CHECKING", "_LAZY", "_HELPERS"}


def __dir__() -> list[str]:
    return sorted((set(globals()) - _HELPERS) | set(__all__))
