"""HEAR's ``get_scene_embeddings`` and ``get_timestamp_embeddings`` for any impact-bench encoder.

Input (HEAR common API): a float tensor (n_sounds, n_samples) at ``model.sample_rate``, all sounds of one
length, on any device. The encoder sees what the harness would give it: each window cut or zero-padded
to its input range (``min_input_seconds`` … ``max_input_seconds``) and normalised as it declares
(``input_waveform_norm``: the LISTEN family's per-clip RMS + z-score).

Scene embedding (n_sounds, scene_embedding_size): the encoder's clip embedding of the whole sound; an
encoder with a maximum input (IMPACT, LISTEN: 1 s) embeds consecutive windows of that length (the last
one ending at the sound's end) and the windows are averaged.

Timestamp embeddings ((n_sounds, T, D) float32, timestamps (n_sounds, T) float32 in ms, centres):
- an encoder with ``embed_frames`` gives its own frames; a sound longer than the encoder's window
  (:func:`impact_bench.hear.model.frame_window`) is cut into windows that start every F · hop samples (F
  frames per window), so the frames of all windows lie on one regular grid, as the HEAR validator
  requires (spacing within 1 ms). Frames centred after the sound's end are dropped, except that a sound
  shorter than the first frame's centre keeps that one frame;
- otherwise the clip embedding of a window (:func:`impact_bench.hear.model.fallback_window`) centred
  every ``model.fallback_hop_ms`` (default 50 ms, :data:`impact_bench.hear.model.FALLBACK_HOP_MS`), the
  sound zero-padded by half a window at both ends (hear-baseline ``util.frame_audio``).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from impact_bench import audio as audio_ops
from impact_bench.errors import EncoderError
from impact_bench.hear.model import HearModel

BATCH_ROWS = 32  # waveform rows per encoder call (windows × sounds)

Plan = list[tuple[int, int]]  # (start sample, samples taken) per window


def _waves(audio: Any, model: Any) -> np.ndarray:
    if not isinstance(model, HearModel):
        raise EncoderError(f"model must come from an impact_bench.hear module's load_model, got {type(model).__name__}")
    if not isinstance(audio, torch.Tensor) or audio.ndim != 2 or audio.shape[1] == 0:
        shape = tuple(audio.shape) if hasattr(audio, "shape") else type(audio).__name__
        raise EncoderError(f"{model.hear_module}: audio must be a torch.Tensor (n_sounds, n_samples) with "
                           f"n_samples ≥ 1, got {shape}")
    return audio.detach().to("cpu", torch.float32).numpy()


def _map_windows(model: HearModel, fn: Callable[[np.ndarray], Any], wave: np.ndarray, plan: Plan) -> list[Any]:
    """``fn`` on every window of every sound; windows of equal length share a call. One result per
    window, each for all sounds (rows in sound order)."""
    enc = model.encoder
    lo = math.ceil(enc.min_input_seconds * enc.sample_rate)
    norm = getattr(enc, "input_waveform_norm", None) or "none"
    n = wave.shape[0]
    results: list[Any] = [None] * len(plan)
    pending: list[int] = []
    segments: list[np.ndarray] = []

    def flush() -> None:
        if not pending:
            return
        out = fn(np.concatenate(segments))
        for k, i in enumerate(pending):
            rows = slice(k * n, (k + 1) * n)
            results[i] = (out[0][rows], out[1]) if isinstance(out, tuple) else out[rows]
        pending.clear()
        segments.clear()

    for i, (start, take) in enumerate(plan):
        seg = wave[:, start:start + take]
        if seg.shape[1] < lo:  # the harness's rule: zero-pad at the end to the minimum input
            seg = np.pad(seg, ((0, 0), (0, lo - seg.shape[1])))
        seg = audio_ops.normalise(np.ascontiguousarray(seg, dtype=np.float32), norm)
        if segments and (segments[0].shape[1] != seg.shape[1] or len(segments) * n >= BATCH_ROWS):
            flush()
        segments.append(seg)
        pending.append(i)
    flush()
    return results


def scene_embeddings(audio: torch.Tensor, model: HearModel) -> torch.Tensor:
    """(n_sounds, n_samples) → (n_sounds, scene_embedding_size) float32, on the audio's device."""
    wave = _waves(audio, model)
    enc = model.encoder
    n = wave.shape[1]
    hi = None if enc.max_input_seconds is None else int(round(enc.max_input_seconds * enc.sample_rate))
    if hi is None or n <= hi:
        plan: Plan = [(0, n)]
    else:
        starts = list(range(0, n - hi + 1, hi))
        if starts[-1] + hi < n:
            starts.append(n - hi)
        plan = [(s, hi) for s in starts]
    out = np.mean(np.stack(_map_windows(model, enc.embed, wave, plan)), axis=0)
    return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32)).to(audio.device)


def _geometry(model: HearModel) -> tuple[int, float, int]:
    """(frames per window, first frame centre in ms, window hop in samples), from one call on silence."""
    if model._geometry is None:
        enc, window = model.encoder, int(model.frame_window or 0)
        _, ts = enc.embed_frames(np.zeros((1, window), np.float32))
        if len(ts) == 0:
            raise EncoderError(f"{model.hear_module}: embed_frames gave no frame for a {window}-sample window")
        hop = int(round(len(ts) * float(enc.frame_hop_ms) * enc.sample_rate / 1000.0))
        model._geometry = (len(ts), float(ts[0]), hop)
    return model._geometry


def _frame_embeddings(model: HearModel, wave: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    enc, n = model.encoder, wave.shape[1]
    if model.frame_window is None:
        plan: Plan = [(0, n)]
        starts_ms = [0.0]
    else:
        _, first_ms, step = _geometry(model)
        duration_ms = 1000.0 * n / enc.sample_rate
        step_ms = 1000.0 * step / enc.sample_rate
        count = 1 if duration_ms < first_ms else int((duration_ms - first_ms) // step_ms) + 1
        plan = [(i * step, model.frame_window) for i in range(count)]
        starts_ms = [1000.0 * i * step / enc.sample_rate for i in range(count)]
    parts = _map_windows(model, enc.embed_frames, wave, plan)
    frames = np.concatenate([f for f, _ in parts], axis=1)
    ts = np.concatenate([t + s for (_, t), s in zip(parts, starts_ms)])
    keep = max(1, int(np.count_nonzero(ts <= 1000.0 * n / enc.sample_rate + 1e-6)))
    return frames[:, :keep], ts[:keep]


def _sliding_embeddings(model: HearModel, wave: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    enc, n, window, hop_ms = model.encoder, wave.shape[1], model.fallback_window, model.fallback_hop_ms
    count = int(1000.0 * n / enc.sample_rate // hop_ms) + 1
    padded = np.pad(wave, ((0, 0), (window // 2, window - window // 2)))
    plan = [(int(round(k * hop_ms * enc.sample_rate / 1000.0)), window) for k in range(count)]
    frames = np.stack(_map_windows(model, enc.embed, padded, plan), axis=1)
    return frames, np.arange(count, dtype=np.float64) * hop_ms


def timestamp_embeddings(audio: torch.Tensor, model: HearModel) -> tuple[torch.Tensor, torch.Tensor]:
    """(n_sounds, n_samples) → (embeddings (n_sounds, T, timestamp_embedding_size) float32, timestamps
    (n_sounds, T) float32 ms), on the audio's device."""
    wave = _waves(audio, model)
    frames, ts = (_frame_embeddings if model.has_frames else _sliding_embeddings)(model, wave)
    emb = torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32)).to(audio.device)
    stamps = torch.from_numpy(np.ascontiguousarray(np.broadcast_to(ts, (wave.shape[0], len(ts))), dtype=np.float32))
    return emb, stamps.to(audio.device)
