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


def seeded_state_dict(template: dict[str, torch.Tensor], seed: int = 0) -> dict[str, torch.Tensor]:
    """A deterministic state dict in ``template``'s layout, independent of any module's init order.

    Each tensor is drawn from NumPy's PCG64 seeded with (``seed``, crc32 of the key), so the official
    code (in a golden script) and ours (in a test) load identical weights from the key names alone:
    weights U(±√(3/fan_in)), biases and LayerNorm/BatchNorm shifts U(±0.1), scales U(0.8, 1.2),
    BatchNorm running means U(±0.2) and running variances U(0.5, 1.5) (so no norm is an identity),
    integer counters copied. Used for golden checks and for CI state dicts in official layouts.
    """
    import zlib

    import numpy as np
    out: dict[str, torch.Tensor] = {}
    for key, ref in template.items():
        if not torch.is_floating_point(ref):
            out[key] = ref.clone()
            continue
        rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
        shape = tuple(ref.shape)
        leaf = key.rsplit(".", 1)[-1]
        if leaf == "running_var":
            arr = rng.uniform(0.5, 1.5, shape)
        elif leaf == "running_mean":
            arr = rng.uniform(-0.2, 0.2, shape)
        elif ref.dim() == 1 and leaf == "weight":  # norm scales
            arr = rng.uniform(0.8, 1.2, shape)
        elif ref.dim() <= 1:  # biases, norm shifts
            arr = rng.uniform(-0.1, 0.1, shape)
        else:
            fan_in = int(np.prod(shape[1:]))
            arr = rng.uniform(-1.0, 1.0, shape) * np.sqrt(3.0 / fan_in)  # unit variance gain
        out[key] = torch.as_tensor(arr, dtype=ref.dtype)
    return out
