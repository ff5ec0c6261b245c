"""Golden values for the IMPACT front end (tests/test_impact_frontend.py).

What it computes: for the seeded inputs of ``inputs()`` — white noise, a 1 kHz tone plus noise at
−40 dB, and a 0.3-s burst followed by silence — the mel power spectrogram and its dB version
exactly as the authors' code configures torchaudio (hanprd/DINOS src/utils.py ``SpecConverter``):
``MelSpectrogram(sample_rate=48000, n_fft=2048, win_length=2048, hop_length=376, n_mels=128,
power=2.0)`` (center=True, reflect padding, periodic Hann, HTK mel, norm None, f_max 24 kHz) and
``AmplitudeToDB("power", top_db=80)`` applied per clip.

Reference implementation: torchaudio when it imports (it does not with torch 2.13: run this in an
environment with a matching torch/torchaudio pair, e.g. ``pip install torch==2.5.1 torchaudio==2.5.1``),
otherwise librosa 0.10+ with the same settings (``htk=True, norm=None, pad_mode="reflect"``,
``power_to_db(ref=1, amin=1e-10, top_db=80)``) — torchaudio's own test-suite checks its
MelSpectrogram against librosa this way. The file records which library produced it.

Run from the repository root:  python scripts/golden/impact_frontend.py
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "impact_frontend_golden.npz"
SR, N = 48_000, 48_000
PARAMS = dict(sample_rate=SR, n_fft=2048, win_length=2048, hop_length=376, n_mels=128, top_db=80.0)


def inputs() -> np.ndarray:
    """Deterministic test clips (NumPy's PCG64 stream is stable across versions)."""
    rng = np.random.default_rng(20251121)
    t = np.arange(N) / SR
    noise = rng.standard_normal(N) * 0.1
    tone = 0.5 * np.sin(2 * np.pi * 1000 * t) + 0.005 * rng.standard_normal(N)
    burst = np.zeros(N)
    burst[: int(0.3 * SR)] = rng.standard_normal(int(0.3 * SR)) * 0.3
    return np.stack([noise, tone, burst]).astype(np.float32)


def with_torchaudio(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    import torch
    import torchaudio

    p = PARAMS
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=p["sample_rate"], n_fft=p["n_fft"],
                                               win_length=p["win_length"], hop_length=p["hop_length"],
                                               n_mels=p["n_mels"], power=2.0)
    to_db = torchaudio.transforms.AmplitudeToDB("power", top_db=p["top_db"])
    power = torch.stack([mel(torch.from_numpy(c)[None])[0] for c in x])
    db = torch.stack([to_db(s[None])[0] for s in power])  # one clip at a time: per-clip top_db
    return power.numpy(), db.numpy(), f"torchaudio {torchaudio.__version__}"


def with_librosa(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    import librosa

    p = PARAMS
    power = np.stack([librosa.feature.melspectrogram(
        y=c.astype(np.float64), sr=p["sample_rate"], n_fft=p["n_fft"], win_length=p["win_length"],
        hop_length=p["hop_length"], window="hann", center=True, pad_mode="reflect", power=2.0,
        n_mels=p["n_mels"], fmin=0.0, fmax=p["sample_rate"] / 2, htk=True, norm=None) for c in x])
    db = np.stack([librosa.power_to_db(s, ref=1.0, amin=1e-10, top_db=p["top_db"]) for s in power])
    return power.astype(np.float32), db.astype(np.float32), f"librosa {librosa.__version__}"


def main() -> None:
    x = inputs()
    try:
        power, db, source = with_torchaudio(x)
    except Exception as exc:  # torchaudio missing or not loadable with this torch
        print(f"torchaudio unavailable ({type(exc).__name__}: {exc}); using librosa")
        power, db, source = with_librosa(x)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, power=power, db=db, source=np.array(source))
    print(f"wrote {OUT} ({source}); power {power.shape}, dB range {db.min():.1f}..{db.max():.1f}")


if __name__ == "__main__":
    main()
