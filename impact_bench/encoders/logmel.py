"""``logmel-stats``: mean and standard deviation over time of each log-mel band.

A transparent, weight-free baseline: if an encoder cannot beat it, the encoder adds nothing.
Front end: 48 kHz, n_fft 2048, hop 512, 128 HTK mel bands (0–24 kHz), power → dB (top_db 80).
"""
from __future__ import annotations

import numpy as np
import torch

from impact_bench.features import MelSpectrogram, power_to_db


class LogMelStats:
    name = "logmel-stats"
    version = "1"
    min_input_seconds = 2048 / 48_000  # one full analysis window
    max_input_seconds = None

    def __init__(self, sample_rate: int = 48_000, n_mels: int = 128, n_fft: int = 2048, hop_length: int = 512,
                 device: str = "cpu") -> None:
        self.sample_rate = int(sample_rate)
        self.embedding_dim = 2 * int(n_mels)
        self.config = {"sample_rate": self.sample_rate, "n_mels": n_mels, "n_fft": n_fft, "hop_length": hop_length}
        self.device = torch.device(device)
        self._mel = MelSpectrogram(self.sample_rate, n_fft, hop_length, n_mels).to(self.device)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            wave = torch.as_tensor(np.asarray(batch, dtype=np.float32), device=self.device)
            db = power_to_db(self._mel(wave), top_db=80.0)
            out = torch.cat([db.mean(dim=-1), db.std(dim=-1, unbiased=False)], dim=-1)
        return out.cpu().numpy().astype(np.float32)
