"""Audio front end shared by every suite: read, validate, downmix, resample, cut, normalise.

Order of operations (recorded in every results file via :func:`frontend_description`):
1. ``soundfile`` decode to float32 (errors name the file);
2. reject NaN/Inf samples, empty files;
3. downmix multichannel by channel mean (or keep one channel: MIMII's baseline uses channel 0);
4. resample to the suite rate with soxr "HQ" (the engine librosa uses by default);
5. cut the suite's clip (first N seconds; zero-pad at the end if shorter) — or, for the anomaly
   suites (``clip_policy: windows``), keep the whole clip and cut it into non-overlapping windows
   of the encoder's input length, whose embeddings are mean-pooled (see :func:`windows`);
6. the suite's waveform normalisation (DINOS: RMS then z-score, IMPACT paper §5.2);
7. the encoder's own official pipeline (inside the adapter), after resampling to its rate.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from impact_bench.errors import DataError

AUDIO_EXTENSIONS = (".wav", ".flac")
RESAMPLER = "soxr HQ (soxr.resample, quality='HQ')"
EPS = 1e-6  # LISTEN / paper normalisation epsilon: x/(rms+1e-6), (x-mean)/(std+1e-6)


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    sample_rate: int
    channels: int
    frames: int


def read_audio(path: Path, channel: int | None = None, start: int = 0, frames: int = -1,
               first_seconds_at: tuple[float, int] | None = None) -> tuple[np.ndarray, int, int]:
    """Decode ``path`` → (mono float32 waveform, native rate, channel count). ``channel`` None: mean
    over channels; an index: that channel only. ``start``/``frames``: read only that span (as the
    LISTEN release's ``sf.read(start=, frames=)``). ``first_seconds_at`` (seconds, rate): when the file
    is already at that rate, decode only that many seconds (one header read decides). Errors name the file."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: audio file does not exist")
    try:
        with sf.SoundFile(str(path)) as f:
            rate = f.samplerate
            if first_seconds_at is not None and rate == first_seconds_at[1]:
                frames = int(round(first_seconds_at[0] * rate))
            if start:
                if start >= f.frames:
                    raise DataError(f"{path}: start sample {start} is past the end of the file ({f.frames} frames)")
                f.seek(start)
            data = f.read(frames, dtype="float32", always_2d=True)
    except DataError:
        raise
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise DataError(f"{path}: cannot decode audio ({exc}); expected a readable WAV or FLAC file") from exc
    if data.shape[0] == 0:
        raise DataError(f"{path}: audio file contains no samples")
    if not np.isfinite(data).all():
        bad = int((~np.isfinite(data)).sum())
        raise DataError(f"{path}: {bad} NaN/Inf samples; expected finite audio")
    channels = data.shape[1]
    if channel is not None:
        if not 0 <= channel < channels:
            raise DataError(f"{path}: has {channels} channel(s); the suite reads channel {channel}")
        mono = data[:, channel]
    else:
        mono = data.mean(axis=1) if channels > 1 else data[:, 0]
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate), channels


def resample(wave: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out:
        return wave.astype(np.float32, copy=False)
    return soxr.resample(wave, rate_in, rate_out, quality="HQ").astype(np.float32, copy=False)


def cut_clip(wave: np.ndarray, length: int, policy: str = "first") -> np.ndarray:
    """Exactly ``length`` samples: the first (or centre) window, zero-padded at the end if short."""
    if wave.shape[-1] >= length:
        start = 0 if policy == "first" else (wave.shape[-1] - length) // 2
        return wave[..., start:start + length]
    pad = [(0, 0)] * (wave.ndim - 1) + [(0, length - wave.shape[-1])]
    return np.pad(wave, pad)


def rms_zscore(wave: np.ndarray, ddof: int = 0) -> np.ndarray:
    """IMPACT paper §5.2 "RMS and Z-score normalization", as the authors' LISTEN code writes it:
    ``(x/(rms+eps) - mean(x)) / (std(x)+eps)`` with mean/std of the ORIGINAL x (per clip, last axis).

    ``ddof``: 0 = population std (``rms-zscore``, this package's DINOS default); 1 = the sample std
    that the LISTEN release's ``x.std()`` (torch, unbiased) computes (``rms-zscore-ddof1``): the two
    differ by the factor sqrt(n/(n-1)), 1 + 1.04e-5 for 48,000 samples.
    A silent clip (all zeros) maps to zeros, never NaN.
    """
    x = wave.astype(np.float64)
    rms = np.sqrt(np.mean(x * x, axis=-1, keepdims=True))
    mean = x.mean(axis=-1, keepdims=True)
    std = x.std(axis=-1, keepdims=True, ddof=ddof)
    return ((x / (rms + EPS) - mean) / (std + EPS)).astype(np.float32)


def normalise(wave: np.ndarray, method: str) -> np.ndarray:
    if method == "rms-zscore":
        return rms_zscore(wave)
    if method == "rms-zscore-ddof1":
        return rms_zscore(wave, ddof=1)
    if method == "none":
        return wave
    raise ValueError(f"unknown waveform normalisation {method!r}")


def load_clip(path: Path, sample_rate: int, seconds: float, policy: str = "first",
              channel: int | None = None, start: int = 0) -> tuple[np.ndarray, AudioInfo]:
    """Read ``path`` (from sample ``start``) and return the suite clip at ``sample_rate`` (before
    normalisation); the ``windows`` policy returns the whole clip. The ``first`` policy on a file
    already at ``sample_rate`` decodes only the frames it keeps."""
    limit = (seconds, sample_rate) if policy == "first" else None
    wave, native, channels = read_audio(path, channel, start, first_seconds_at=limit)
    info = AudioInfo(Path(path), native, channels, wave.shape[0])
    wave = resample(wave, native, sample_rate)
    if policy == "windows":
        return wave, info
    return cut_clip(wave, int(round(seconds * sample_rate)), policy), info


def windows(wave: np.ndarray, length: int) -> np.ndarray:
    """(n, length) non-overlapping windows covering ``wave``. A clip no longer than one window is
    zero-padded to it (RMIS pads short clips); a tail of at least half a window is zero-padded and
    kept, a shorter tail dropped, so a 10.02-s clip is not averaged with a near-silent window."""
    n_full = wave.shape[-1] // length
    tail = wave.shape[-1] - n_full * length
    if n_full == 0 or 2 * tail >= length:
        wave = cut_clip(wave, (n_full + 1) * length)
        n_full += 1
    return wave[: n_full * length].reshape(n_full, length)


def frontend_description(sample_rate: int, seconds: float, policy: str, norm: str,
                         channel: int | None = None) -> dict[str, object]:
    windowed = policy == "windows"
    return {
        "decoder": "soundfile (float32)",
        "downmix": "mean over channels" if channel is None else f"channel {channel} only",
        "resampler": RESAMPLER,
        "sample_rate": sample_rate,
        "clip_seconds": "whole clip" if windowed else seconds,
        "clip_policy": ("non-overlapping windows of the encoder input length (at most "
                        f"{seconds} s); tail >= half a window zero-padded and kept; embeddings mean-pooled"
                        if windowed else f"{policy} window; zero-pad at end if shorter"),
        "waveform_norm": norm,
    }
