"""The encoder contract: a ``runtime_checkable`` Protocol, no base class required.

An encoder turns a batch of mono waveforms at its declared ``sample_rate`` into one embedding per
clip. The harness guarantees the input: float32, shape (B, T), T ≥ ``min_input_seconds`` ×
``sample_rate`` (shorter clips are zero-padded at the end, longer ones than
``max_input_seconds`` cut, and the policy recorded). ``embed`` must be deterministic, must not
depend on batch composition, must not touch global RNG state, and runs on frozen weights (torch
encoders: ``eval()`` and ``torch.inference_mode()``).

Optional attributes the harness records when present: ``config`` (dict of settings that change
the embedding), ``checkpoint_sha256``, ``license``, ``description``.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Encoder(Protocol):
    name: str
    version: str  # bump whenever the embedding of the same input could change
    sample_rate: int
    embedding_dim: int
    min_input_seconds: float
    max_input_seconds: float | None

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """(B, T) float32 waveforms → (B, embedding_dim) float32 embeddings."""
        ...


def describe(encoder: Encoder) -> dict[str, Any]:
    """What a results file records about an encoder."""
    return {
        "name": encoder.name,
        "version": encoder.version,
        "sample_rate": int(encoder.sample_rate),
        "embedding_dim": int(encoder.embedding_dim),
        "min_input_seconds": float(encoder.min_input_seconds),
        "max_input_seconds": None if encoder.max_input_seconds is None else float(encoder.max_input_seconds),
        "config": dict(getattr(encoder, "config", {}) or {}),
        "checkpoint_sha256": getattr(encoder, "checkpoint_sha256", None),
        "license": getattr(encoder, "license", None),
    }
