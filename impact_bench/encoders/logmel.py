"""``logmel-stats``: mean and standard deviation over time of each log-mel band.

A transparent, weight-free baseline: if an encoder cannot beat it, the encoder adds nothing.
Front end: 48 kHz, n_fft 2048, hop 512, 128 HTK mel bands (0–24 kHz), power → dB (top_db 80).
Frames (``embed_frames``): the dB mel frames themselves, 128-d every 512 / 48000 s = 10.67 ms, frame k
centred at sample k·512 (centred STFT, ``impact_bench.features.MelSpectrogram``).
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
        self.hop_length = int(hop_length)
        self.frame_embedding_dim = int(n_mels)
        self.frame_hop_ms = 1000.0 * self.hop_length / self.sample_rate

    def _db(self, batch: np.ndarray) -> torch.Tensor:
        """(B, T) → (B, n_mels, 1 + T // hop) dB mel frames (the clip's max − 80 dB floor)."""
        wave = torch.as_tensor(np.asarray(batch, dtype=np.float32), device=self.device)
        return power_to_db(self._mel(wave), top_db=80.0)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            db = self._db(batch)
            out = torch.cat([db.mean(dim=-1), db.std(dim=-1, unbiased=False)], dim=-1)
        return out.cpu().numpy().astype(np.float32)

    def embed_frames(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, T) → dB mel frames (B, 1 + T // hop, n_mels), centred at k · hop samples."""
        with torch.inference_mode():
            frames = self._db(batch).transpose(1, 2).cpu().numpy().astype(np.float32)
        return frames, np.arange(frames.shape[1], dtype=np.float64) * self.frame_hop_ms
