"""IMPACT checkpoints: our training checkpoints and the authors' files, loaded strictly.

Authors' format (IMPACT_pretraining, facts §2.3): ``torch.save`` of a dict with ``epoch``,
``model_state_dict`` (the *student*, decoder included), ``optimizer_state_dict``, ``metrics``,
``timestamp``, ``torch_version``; default name ``impact_DINOS_epoch_0010.pth``. The file carries
no config, so it loads under a preset (``reference`` unless told) with the embedding width and
depth read from the tensor shapes; heads cannot be read (12 and 16 give identical shapes).

Ours adds ``format``/``config``/``teacher_state_dict``/resume state, so loading needs no flags.
Decoder keys are dropped explicitly; any other missing, unexpected or mis-shaped key is an error
listing the first offenders. ``torch.load(weights_only=True)`` unless the user trusts the file.
"""
from __future__ import annotations

import io
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import torch

from impact_bench.errors import EncoderError
from impact_bench.impact.config import ImpactConfig, from_dict, preset
from impact_bench.impact.model import ImpactEncoder
from impact_bench.impact.objective import is_decoder_key

FORMAT = "impact-bench/impact-checkpoint"
FORMAT_VERSION = 1
AUTHORS_FILE = "impact_DINOS_epoch_0010.pth"  # DINOS downstream default backbone path (facts §2.3)
SHOWN = 8  # mismatches listed per category


class CheckpointError(EncoderError):
    """A checkpoint file cannot be read, or does not fit the model."""


def _safe_globals() -> list[Any]:
    """The narrow allow-list for weights_only loading: types the authors' files carry besides tensors —
    ``torch_version`` (a str subclass) and NumPy scalars in ``metrics`` (reconstructor + dtypes)."""
    import numpy as np
    scalar = getattr(getattr(np, "_core", np.core), "multiarray").scalar
    dtypes = [type(np.dtype(t)) for t in ("float64", "float32", "float16", "int64", "int32", "bool")]
    return [torch.torch_version.TorchVersion, scalar, np.dtype, *dtypes]


def read_checkpoint(path: str | Path, trust: bool = False) -> Any:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file does not exist")
    try:
        if trust:
            return torch.load(path, map_location="cpu", weights_only=False)
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        try:
            allowed = {f"{g.__module__}.{g.__qualname__}" for g in _safe_globals()}
            extra = [g for g in torch.serialization.get_unsafe_globals_in_checkpoint(path) if g not in allowed]
        except Exception as inner:  # not a torch zip file at all
            raise CheckpointError(f"{path}: not a readable torch checkpoint: {exc}") from inner
        raise CheckpointError(
            f"{path}: loading needs Python objects outside the tensor/container allow-list "
            f"({', '.join(extra) if extra else 'see torch.load'}). Only if you trust the file's source, pass "
            f"--trust-checkpoint (full pickle: the file can run code).") from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable torch checkpoint: {type(exc).__name__}: {exc}") from exc


def write_atomic(path: Path, payload: dict[str, Any]) -> None:
    """torch.save to a temp file in the same folder, then rename: no half-written checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save(payload, buf)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(buf.getbuffer())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_ours(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("format") == FORMAT


def student_state(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    state = obj.get("model_state_dict", obj) if isinstance(obj, dict) else None
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a dict with 'model_state_dict' (or a bare state dict of tensors), "
                              f"got top-level keys {sorted(obj)[:10] if isinstance(obj, dict) else type(obj).__name__}")
    return state


def authors_config(state: dict[str, torch.Tensor], preset_name: str, path: Path) -> ImpactConfig:
    """Preset config with embedding width and depth taken from the tensors."""
    cfg = preset(preset_name)
    if "cls_token" not in state:
        raise CheckpointError(f"{path}: no 'cls_token' tensor — not an IMPACT (EATMAE) state dict; "
                              f"first keys: {list(state)[:SHOWN]}")
    embed = int(state["cls_token"].shape[-1])
    layers = {int(k.split(".")[2]) for k in state if k.startswith("encoder.layers.")}
    depth = max(layers) + 1 if layers else cfg.model.depth
    heads = cfg.model.num_heads if embed % cfg.model.num_heads == 0 else 12
    return cfg.replace(model={"embed_dim": embed, "depth": depth, "num_heads": heads})


def load_strict(model: ImpactEncoder, state: dict[str, torch.Tensor], path: Path) -> int:
    """Load encoder keys strictly; returns how many decoder keys were dropped."""
    encoder_keys = {k: v for k, v in state.items() if not is_decoder_key(k)}
    dropped = len(state) - len(encoder_keys)
    expected = model.state_dict()
    missing = [k for k in expected if k not in encoder_keys]
    unexpected = [k for k in encoder_keys if k not in expected]
    shapes = [f"{k}: file {tuple(encoder_keys[k].shape)} vs model {tuple(v.shape)}"
              for k, v in expected.items() if k in encoder_keys and encoder_keys[k].shape != v.shape]
    if missing or unexpected or shapes:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", shapes)):
            if items:
                more = f" … and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
                parts.append(f"{label} ({len(items)}): {', '.join(items[:SHOWN])}{more}")
        raise CheckpointError(f"{path}: checkpoint does not fit the IMPACT encoder "
                              f"(E={model.cfg.model.embed_dim}, depth={model.cfg.model.depth}, "
                              f"stem_norm={model.cfg.model.stem_norm}):\n  " + "\n  ".join(parts))
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in encoder_keys.items()}, strict=True)
    return dropped


def load_encoder(path: str | Path, *, trust: bool = False, preset_name: str | None = None,
                 num_heads: int | None = None, weights: str = "student") -> tuple[ImpactEncoder, dict[str, Any]]:
    """(encoder in eval mode, description) from our checkpoint or the authors' file."""
    path = Path(path)
    obj = read_checkpoint(path, trust)
    if is_ours(obj):
        cfg = from_dict(obj["config"])
        if preset_name is not None and preset_name != cfg.preset:
            raise CheckpointError(f"{path}: trained with preset {cfg.preset!r}; --encoder-opt preset={preset_name} "
                                  f"contradicts the config stored in the file")
        if weights not in ("student", "teacher"):
            raise CheckpointError(f"weights must be 'student' or 'teacher', got {weights!r}")
        state = obj["model_state_dict"] if weights == "student" else obj["teacher_state_dict"]
        kind = "impact-bench"
    else:
        if weights != "student":
            raise CheckpointError(f"{path}: authors' checkpoints hold only the student (weights=student)")
        state = student_state(obj, path)
        cfg = authors_config(state, preset_name or "reference", path)
        kind = "authors"
    if num_heads is not None:
        cfg = cfg.replace(model={"num_heads": int(num_heads)})
    model = ImpactEncoder(cfg)
    dropped = load_strict(model, state, path)
    info = {"checkpoint_format": kind, "preset": cfg.preset, "weights": weights, "decoder_keys_dropped": dropped,
            "epoch": obj.get("epoch") if isinstance(obj, dict) else None}
    return model.eval(), info
