"""Kaldi-compatible log mel filterbank in plain torch (the front end of BEATs and AudioMAE).

Equal to ``torchaudio.compliance.kaldi.fbank`` (torchaudio 2.11 ``compliance/kaldi.py``)
for the options those models use (microsoft/unilm ``BEATs.preprocess``, facebookresearch/AudioMAE
``dataset.py::_wav2fbank``); torchaudio itself does not load with torch 2.13. Pipeline per
frame, in Kaldi's order: cut frames of ``frame_length`` ms every ``frame_shift`` ms (``snip_edges``:
complete frames only) → optional dither → remove the frame's DC offset → pre-emphasis
(x[n] − 0.97·x[n−1], first sample against itself) → window (povey = symmetric Hann^0.85, hanning,
hamming, rectangular, blackman) → zero-pad to the next power of two → |rFFT|² → Kaldi mel banks
(mel = 1127·ln(1 + f/700), triangles in mel between ``low_freq`` and ``high_freq``, Nyquist bin zero)
→ log(max(x, float32 eps)). Golden values: ``scripts/golden/kaldi_fbank.py``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import torch

EPS = torch.finfo(torch.float32).eps  # kaldi.py: EPSILON = torch.tensor(torch.finfo(torch.float).eps)
WindowType = Literal["povey", "hanning", "hamming", "rectangular", "blackman"]


@dataclass(frozen=True)
class FbankConfig:
    """kaldi.fbank's options and defaults (those BEATs/AudioMAE rely on; energy/VTLN options are not offered)."""

    num_mel_bins: int = 23
    sample_frequency: float = 16000.0
    frame_length: float = 25.0      # ms
    frame_shift: float = 10.0       # ms
    window_type: WindowType = "povey"
    preemphasis_coefficient: float = 0.97
    remove_dc_offset: bool = True
    round_to_power_of_two: bool = True
    low_freq: float = 20.0
    high_freq: float = 0.0          # ≤ 0: offset from Nyquist
    dither: float = 0.0
    use_power: bool = True
    use_log_fbank: bool = True
    snip_edges: bool = True
    subtract_mean: bool = False
    blackman_coeff: float = 0.42

    @property
    def window_size(self) -> int:
        return int(self.sample_frequency * self.frame_length * 0.001)

    @property
    def window_shift(self) -> int:
        return int(self.sample_frequency * self.frame_shift * 0.001)

    @property
    def padded_window_size(self) -> int:
        n = self.window_size
        return 1 << (n - 1).bit_length() if self.round_to_power_of_two else n


def mel(freq: torch.Tensor | float) -> torch.Tensor | float:
    if isinstance(freq, torch.Tensor):
        return 1127.0 * torch.log1p(freq / 700.0)
    return 1127.0 * math.log(1.0 + freq / 700.0)


@lru_cache(maxsize=16)  # a pure function of the frozen config; not rebuilt on every batch
def mel_banks(cfg: FbankConfig) -> torch.Tensor:
    """(num_mel_bins, padded_window_size // 2 + 1) Kaldi triangular filters (float32, last column zero)."""
    n_fft_bins = cfg.padded_window_size // 2
    nyquist = 0.5 * cfg.sample_frequency
    high = cfg.high_freq if cfg.high_freq > 0.0 else cfg.high_freq + nyquist
    if not (0.0 <= cfg.low_freq < nyquist and 0.0 < high <= nyquist and cfg.low_freq < high):
        raise ValueError(f"kaldi fbank: bad low_freq {cfg.low_freq} / high_freq {cfg.high_freq} for nyquist {nyquist}")
    mel_low, mel_high = mel(cfg.low_freq), mel(high)
    delta = (mel_high - mel_low) / (cfg.num_mel_bins + 1)
    b = torch.arange(cfg.num_mel_bins, dtype=torch.float32).unsqueeze(1)
    left, center, right = mel_low + b * delta, mel_low + (b + 1) * delta, mel_low + (b + 2) * delta
    grid = mel(cfg.sample_frequency / cfg.padded_window_size * torch.arange(n_fft_bins, dtype=torch.float32)).unsqueeze(0)
    up = (grid - left) / (center - left)
    down = (right - grid) / (right - center)
    banks = torch.clamp(torch.minimum(up, down), min=0.0)
    return torch.nn.functional.pad(banks, (0, 1))


@lru_cache(maxsize=16)
def window(cfg: FbankConfig, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    n = cfg.window_size
    if cfg.window_type == "hanning":
        return torch.hann_window(n, periodic=False, dtype=dtype)
    if cfg.window_type == "povey":
        return torch.hann_window(n, periodic=False, dtype=dtype).pow(0.85)
    if cfg.window_type == "hamming":
        return torch.hamming_window(n, periodic=False, alpha=0.54, beta=0.46, dtype=dtype)
    if cfg.window_type == "rectangular":
        return torch.ones(n, dtype=dtype)
    a = 2 * math.pi / (n - 1)
    k = torch.arange(n, dtype=dtype)
    return cfg.blackman_coeff - 0.5 * torch.cos(a * k) + (0.5 - cfg.blackman_coeff) * torch.cos(2 * a * k)


def frames(x: torch.Tensor, cfg: FbankConfig) -> torch.Tensor:
    """(..., N) → (..., n_frames, window_size); snip_edges=False mirrors the edges as Kaldi does."""
    size, shift = cfg.window_size, cfg.window_shift
    n = x.shape[-1]
    if cfg.snip_edges:
        if n < size:
            return x.new_zeros((*x.shape[:-1], 0, size))
        return x.unfold(-1, size, shift)
    m = (n + shift // 2) // shift
    pad = size // 2 - shift // 2
    rev = x.flip(-1)  # Kaldi mirrors the signal at both ends
    padded = torch.cat([rev[..., n - pad:], x, rev], dim=-1) if pad > 0 else torch.cat([x[..., -pad:], rev], dim=-1)
    return padded.unfold(-1, size, shift)[..., :m, :]


def fbank(waveform: torch.Tensor, cfg: FbankConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """(N,) or (B, N) waveform → (n_frames, num_mel_bins) or (B, n_frames, num_mel_bins).

    Unlike kaldi.fbank (first channel of a (C, N) input) a 2-D input is a batch of equal-length clips.
    Dither draws from ``generator`` only — never from the global RNG.
    """
    if waveform.dim() not in (1, 2):
        raise ValueError(f"kaldi fbank: expected (N,) or (B, N) waveform, got shape {tuple(waveform.shape)}")
    if cfg.window_size < 2 or cfg.window_shift <= 0:
        raise ValueError(f"kaldi fbank: frame_length/frame_shift too small for {cfg.sample_frequency} Hz")
    x = frames(waveform, cfg)
    if x.shape[-2] == 0:  # shorter than one frame (snip_edges): no frames, as Kaldi
        return x.new_zeros((*x.shape[:-2], 0, cfg.num_mel_bins))
    if cfg.dither != 0.0:
        x = x + cfg.dither * torch.randn(x.shape, generator=generator, dtype=x.dtype)
    if cfg.remove_dc_offset:
        x = x - x.mean(dim=-1, keepdim=True)
    if cfg.preemphasis_coefficient != 0.0:
        prev = torch.cat([x[..., :1], x[..., :-1]], dim=-1)
        x = x - cfg.preemphasis_coefficient * prev
    x = x * window(cfg, x.dtype)
    x = torch.nn.functional.pad(x, (0, cfg.padded_window_size - cfg.window_size))
    spec = torch.fft.rfft(x).abs()
    if cfg.use_power:
        spec = spec.pow(2.0)
    out = torch.matmul(spec, mel_banks(cfg).to(spec.dtype).T)
    if cfg.use_log_fbank:
        out = torch.clamp_min(out, EPS).log()
    if cfg.subtract_mean:
        out = out - out.mean(dim=-2, keepdim=True)
    return out
