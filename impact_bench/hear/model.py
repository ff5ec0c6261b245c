"""The HEAR model object: an impact-bench encoder behind the attributes HEAR asks for.

HEAR 2021 common API (hearbenchmark.com/hear-api.html; checked by hearbenchmark/hear-validator
``hearvalidator/validate.py``): ``load_model(model_file_path: str = "")`` returns a ``torch.nn.Module``
(the validator refuses anything else) with ``sample_rate`` (one of 16000, 22050, 32000, 44100, 48000),
``scene_embedding_size`` and ``timestamp_embedding_size`` (ints). ``model.to(device)`` is how HEAR's
tools choose the device: the encoder's torch modules are registered here, so they move, and the
encoder's ``device`` follows.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from impact_bench.encoders.protocol import Encoder, has_frames
from impact_bench.errors import EncoderError

# Hop of the sliding clip embeddings that stand in for frames (encoders without embed_frames): HEAR's
# suggestion (hearbenchmark/hear-baseline naive.py TIMESTAMP_HOP_SIZE = 50; hear-validator warns above 50 ms).
FALLBACK_HOP_MS = 50.0

# Samples per embed_frames call when a clip is longer, for encoders whose own input has no upper bound.
# BEATs: its pre-training input, AudioSet's 10-s clips (Chen et al., "BEATs", ICML 2023, §4.1).
BEATS_WINDOW_SECONDS = 10.0


def frame_window(encoder: Any) -> int | None:
    """Samples the encoder sees per ``embed_frames`` call for timestamp embeddings (None: the whole clip).

    ``max_input_seconds`` where set (IMPACT and the LISTEN family: 1 s); AudioMAE: exactly the audio that
    fills its ``target_length`` fbank frames (400 + 160 · (1024 − 1) samples, facebookresearch/AudioMAE
    ``dataset.py``), so no frame comes from the official log-domain padding; BEATs: 10 s.
    """
    sr = int(encoder.sample_rate)
    name = getattr(encoder, "name", "")
    if name == "beats":
        return int(BEATS_WINDOW_SECONDS * sr)
    if name in ("audiomae", "audiomae-ft"):
        from impact_bench.baselines.audiomae import FBANK
        return FBANK.window_size + (int(encoder.config["target_frames"]) - 1) * FBANK.window_shift
    if encoder.max_input_seconds is not None:
        return int(round(encoder.max_input_seconds * sr))
    return None


def fallback_window(encoder: Any) -> int:
    """Window (samples) of the sliding clip embeddings that stand in for frames when an encoder has no
    ``embed_frames``: 1 s, or less when the encoder's maximum input is shorter, at least its minimum."""
    sr = int(encoder.sample_rate)
    window = sr if encoder.max_input_seconds is None else min(sr, int(round(encoder.max_input_seconds * sr)))
    return max(window, math.ceil(encoder.min_input_seconds * sr))


class HearModel(torch.nn.Module):
    """HEAR's model: ``sample_rate``, ``scene_embedding_size`` (the encoder's clip embedding) and
    ``timestamp_embedding_size`` (its frames, or its clip embedding on sliding windows)."""

    def __init__(self, encoder: Encoder, hear_module: str, fallback_hop_ms: float = FALLBACK_HOP_MS) -> None:
        super().__init__()
        self.encoder = encoder  # a plain object: not a submodule, its torch modules are registered below
        self.hear_module = hear_module
        self.sample_rate = int(encoder.sample_rate)
        self.scene_embedding_size = int(encoder.embedding_dim)
        self.has_frames = has_frames(encoder)
        self.timestamp_embedding_size = int(getattr(encoder, "frame_embedding_dim") if self.has_frames
                                            else encoder.embedding_dim)
        self.frame_window = frame_window(encoder) if self.has_frames else None
        self.fallback_window = fallback_window(encoder)
        if not fallback_hop_ms > 0:
            raise EncoderError(f"{hear_module}: timestamp_hop_ms must be > 0, got {fallback_hop_ms!r}")
        self.fallback_hop_ms = float(fallback_hop_ms)
        self._geometry: tuple[int, float, int] | None = None  # (frames per window, first centre ms, window hop)
        for name, value in vars(encoder).items():
            if isinstance(value, torch.nn.Module):
                self.add_module(f"encoder_{name.lstrip('_')}", value)
        self.register_buffer("_device_probe", torch.zeros(0), persistent=False)
        self.eval()

    def _apply(self, fn: Any, recurse: bool = True) -> "HearModel":
        out = super()._apply(fn, recurse)
        if hasattr(self.encoder, "device"):  # the encoder puts its input on self.device
            self.encoder.device = self._device_probe.device
        return out

    def extra_repr(self) -> str:
        return (f"encoder={getattr(self.encoder, 'name', type(self.encoder).__name__)!r}, "
                f"sample_rate={self.sample_rate}, scene_embedding_size={self.scene_embedding_size}, "
                f"timestamp_embedding_size={self.timestamp_embedding_size}")


PASS_CHECKPOINT = "pass its checkpoint as model_file_path (hear-eval-kit and hear-validator: --model FILE)"


def load(encoder_name: str, model_file_path: str = "", *, options: dict[str, Any] | None = None,
         hear_module: str | None = None, checkpoint_hint: str = PASS_CHECKPOINT) -> HearModel:
    """Build ``encoder_name`` from the catalog (plugins included) with ``model_file_path`` as its checkpoint.

    An empty path means "no file given": encoders that need weights then look where ``impact-bench
    weights`` looks, and without a file found the error says what to pass. ``options``: encoder options
    (``--encoder-opt``), e.g. ``{"random_init_seed": 0}`` for an untrained IMPACT, except
    ``timestamp_hop_ms``: the hop of the sliding windows of an encoder without frames (default 50 ms; a
    heavy encoder such as VGGish costs one clip embedding per hop).
    """
    from impact_bench.encoders.catalog import build_encoder

    options = dict(options or {})
    hop_ms = float(options.pop("timestamp_hop_ms", FALLBACK_HOP_MS))
    module = hear_module or f"impact_bench.hear (encoder {encoder_name!r})"
    path = str(model_file_path or "") or None
    if path is not None and not Path(path).is_file():
        raise EncoderError(f"{module}: load_model(model_file_path={path!r}): no such file")
    try:
        encoder = build_encoder(encoder_name, checkpoint=path, options=options)
    except EncoderError as exc:
        if path is None:
            raise EncoderError(f"{module}: load_model() without a checkpoint failed: {str(exc).rstrip('.')}. Where "
                               f"{encoder_name!r} needs weights, {checkpoint_hint}.") from exc
        raise EncoderError(f"{module}: load_model({path!r}): {exc}") from exc
    return HearModel(encoder, module, fallback_hop_ms=hop_ms)
