"""IMPACT checkpoints: our training checkpoints and the authors' files, loaded strictly.

Authors' format (IMPACT_pretraining; hanprd/DINOS src/pipelines/EAT_pretraining.py): ``torch.save``
of a dict with ``epoch``, ``model_state_dict`` (the *student*, decoder included), ``optimizer_state_dict``, ``metrics``,
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
import tempfile
from pathlib import Path
from typing import Any

import torch

from impact_bench.checkpoints import SHOWN, CheckpointError, load_state_strict, numpy_scalar_globals
from impact_bench.checkpoints import read_checkpoint as _read
from impact_bench.impact.config import ImpactConfig, from_dict, preset
from impact_bench.impact.model import ImpactEncoder
from impact_bench.impact.objective import is_decoder_key
from impact_bench.weights import MANIFESTS

FORMAT = "impact-bench/impact-checkpoint"
FORMAT_VERSION = 1
AUTHORS_FILE = MANIFESTS["impact"].files[0]  # the authors' file name, as the weights manifest lists it
__all__ = ["CheckpointError", "read_checkpoint", "load_encoder", "write_atomic"]


def read_checkpoint(path: str | Path, trust: bool = False) -> Any:
    """Allow-list: ``torch_version`` (a str subclass) and NumPy scalars in the authors' ``metrics``."""
    return _read(path, trust, numpy_scalar_globals())


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
    load_state_strict(model, encoder_keys, path, f"IMPACT encoder (E={model.cfg.model.embed_dim}, "
                      f"depth={model.cfg.model.depth}, stem_norm={model.cfg.model.stem_norm})")
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
