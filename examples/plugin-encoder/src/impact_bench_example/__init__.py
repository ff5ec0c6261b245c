"""A complete third-party encoder: no base class, no impact-bench import — just the Encoder protocol.

``impact_bench.encoders.protocol.Encoder`` asks for these attributes and ``embed``; the harness checks
them at run time and ``impact-bench check-encoder spectral-shape`` runs the conformance checks.
"""
from __future__ import annotations

import numpy as np


class SpectralShape:
    """Spectral centroid, spread, flatness and roll-off, mean and std over 32-ms frames (8-d)."""

    name = "spectral-shape"
    version = "1"
    sample_rate = 16000
    embedding_dim = 8
    min_input_seconds = 0.064
    max_input_seconds = None
    licence = "MIT"  # recorded in results files (the older spelling `license` is read too)
    description = "spectral centroid/spread/flatness/roll-off, mean and std over frames (example plugin)"

    def __init__(self, frame: int = 512, device: str = "cpu") -> None:  # device: accepted, unused (NumPy)
        self.frame = int(frame)
        self.config = {"frame": self.frame}

    def embed(self, batch: np.ndarray) -> np.ndarray:
        x = np.asarray(batch, dtype=np.float64)
        n = x.shape[1] // self.frame * self.frame
        frames = x[:, :n].reshape(len(x), -1, self.frame) * np.hanning(self.frame)
        power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2 + 1e-12
        freqs = np.fft.rfftfreq(self.frame, 1 / self.sample_rate)
        p = power / power.sum(axis=-1, keepdims=True)
        centroid = (p * freqs).sum(-1)
        spread = np.sqrt((p * (freqs - centroid[..., None]) ** 2).sum(-1))
        flatness = np.exp(np.log(power).mean(-1)) / power.mean(-1)
        rolloff = freqs[np.argmax(np.cumsum(p, axis=-1) >= 0.85, axis=-1)]
        feats = np.stack([centroid / 8000, spread / 8000, flatness, rolloff / 8000], axis=-1)
        return np.concatenate([feats.mean(axis=1), feats.std(axis=1)], axis=1).astype(np.float32)
