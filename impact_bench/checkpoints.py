"""Reading checkpoint files safely and loading state dicts strictly — shared by every adapter.

``torch.load(weights_only=True)`` with a narrow per-adapter allow-list of the extra Python types the
official files carry (NumPy scalars, ``argparse.Namespace``, …); anything else needs
``--trust-checkpoint`` (full pickle). Strict loading lists the missing, unexpected and mis-shaped
keys instead of silently keeping random weights.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Iterable

import torch

from impact_bench.errors import EncoderError

SHOWN = 8  # mismatches listed per category


class CheckpointError(EncoderError):
    """A checkpoint file cannot be read, or does not fit the model."""


def numpy_scalar_globals() -> list[Any]:
    """NumPy scalars/dtypes as pickled in training metrics (reconstructor + dtype classes)."""
    import numpy as np
    scalar = getattr(getattr(np, "_core", np.core), "multiarray").scalar
    dtypes = [type(np.dtype(t)) for t in ("float64", "float32", "float16", "int64", "int32", "bool")]
    return [torch.torch_version.TorchVersion, scalar, np.dtype, *dtypes]


def read_checkpoint(path: str | Path, trust: bool = False, allow: Iterable[Any] = ()) -> Any:
    """The file's object; ``allow``: the extra globals this adapter's official files need."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file does not exist")
    allow = list(allow)
    try:
        if trust:
            return torch.load(path, map_location="cpu", weights_only=False)
        with torch.serialization.safe_globals(allow):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        try:
            allowed = {f"{g.__module__}.{g.__qualname__}" for g in allow}
            extra = [g for g in torch.serialization.get_unsafe_globals_in_checkpoint(path) if g not in allowed]
        except Exception as inner:  # not a torch zip file at all
            raise CheckpointError(f"{path}: not a readable torch checkpoint: {exc}") from inner
        raise CheckpointError(
            f"{path}: loading needs Python objects outside the tensor/container allow-list "
            f"({', '.join(extra) if extra else 'see torch.load'}). Only if you trust the file's source, pass "
            f"--trust-checkpoint (full pickle: the file can run code).") from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable torch checkpoint: {type(exc).__name__}: {exc}") from exc


def load_state_strict(model: torch.nn.Module, state: dict[str, torch.Tensor], path: Path, what: str) -> None:
    """``model.load_state_dict(strict=True)`` after a check whose error names every kind of mismatch."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
              for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if missing or unexpected or shapes:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", shapes)):
            if items:
                more = f" … and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
                parts.append(f"{label} ({len(items)}): {', '.join(items[:SHOWN])}{more}")
        raise CheckpointError(f"{path}: checkpoint does not fit the {what}:\n  " + "\n  ".join(parts))
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()}, strict=True)
