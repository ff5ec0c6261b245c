"""Signal primitives for the synthetic machine sounds (48 kHz, float64, one clip at a time).

The models follow the IMPACT paper §3 and Appendix A.2: rotating machinery gives a spindle
fundamental RPM/60 and tooth-passing harmonics; chatter is a self-excited narrow-band vibration
near a structural mode with sidebands at the tooth-passing frequency; stethoscope sensors pick up
structure-borne sound, low-pass filtered with low-frequency emphasis; microphones are flatter and
add shop-floor noise and room reverberation.
"""
from __future__ import annotations

import numpy as np
from scipy import signal

SR = 48_000  # §3.1: all DINOS recordings are 48 kHz mono


def time_axis(n: int) -> np.ndarray:
    return np.arange(n) / SR


def harmonics(n: int, f0: float | np.ndarray, amps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sum of k·f0 partials (k = 1..len(amps)) with random phases; f0 may vary over time."""
    f0 = np.broadcast_to(np.asarray(f0, dtype=np.float64), (n,))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    out = np.zeros(n)
    for k, a in enumerate(amps, start=1):
        if a == 0 or k * f0.max() >= SR / 2 * 0.95:
            continue
        out += a * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    return out


def band_noise(n: int, lo: float, hi: float, rng: np.random.Generator, order: int = 4) -> np.ndarray:
    """Gaussian noise band-limited to [lo, hi] Hz (unit-ish RMS)."""
    hi = min(hi, SR / 2 * 0.98)
    sos = signal.butter(order, [lo, hi], btype="bandpass", fs=SR, output="sos")
    x = signal.sosfilt(sos, rng.standard_normal(n + 2048))[2048:]
    return x / (np.std(x) + 1e-12)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0
    x = np.fft.irfft(spec, n)
    return x / (np.std(x) + 1e-12)


def resonance(x: np.ndarray, freq: float, q: float) -> np.ndarray:
    """Drive a second-order resonator (peak filter) with ``x``: a structural mode."""
    b, a = signal.iirpeak(freq, q, fs=SR)
    y = signal.lfilter(b, a, x)
    return y / (np.std(y) + 1e-12)


def impacts(n: int, rate: float, modes: list[tuple[float, float]], decay_s: float,
            rng: np.random.Generator, jitter: float = 0.05) -> np.ndarray:
    """A quasi-periodic train of impacts, each ringing damped modes [(freq Hz, relative amp)]."""
    ir_len = int(min(6 * decay_s, 0.2) * SR)
    t = time_axis(ir_len)
    ir = sum(a * np.exp(-t / decay_s) * np.sin(2 * np.pi * f * t) for f, a in modes)
    train = np.zeros(n)
    pos = rng.uniform(0, SR / rate)
    while pos < n:
        train[int(pos)] += rng.uniform(0.6, 1.4)
        pos += SR / rate * (1 + rng.normal(0, jitter))
    return signal.fftconvolve(train, ir)[:n]


def am(x: np.ndarray, rate: float, depth: float, rng: np.random.Generator) -> np.ndarray:
    t = time_axis(len(x))
    return x * (1 + depth * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi)))


def stethoscope(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Structure-borne pickup: low-pass (bell attenuates airborne HF), low-frequency emphasis."""
    sos_lp = signal.butter(2, 2500, btype="lowpass", fs=SR, output="sos")
    sos_low = signal.butter(2, 300, btype="lowpass", fs=SR, output="sos")
    y = signal.sosfilt(sos_lp, x) + 1.0 * signal.sosfilt(sos_low, x)
    return y + 0.01 * np.std(y) * rng.standard_normal(len(y))


def microphone(x: np.ndarray, rng: np.random.Generator, noise_level: float = 0.35) -> np.ndarray:
    """Airborne pickup: flat response, shop-floor noise (pink + mains hum + a distant machine
    tone) and room reverberation (exponentially decaying noise impulse response)."""
    n = len(x)
    hum = harmonics(n, rng.choice([50.0, 60.0]), np.array([1.0, 0.5, 0.3, 0.2]), rng)
    distant = harmonics(n, rng.uniform(20, 45), rng.uniform(0, 1, 6), rng)
    floor = pink_noise(n, rng) + 0.3 * hum + 0.2 * distant / (np.std(distant) + 1e-12)
    rt60 = rng.uniform(0.15, 0.45)
    ir_t = time_axis(int(rt60 * SR))
    ir = rng.standard_normal(len(ir_t)) * np.exp(-6.9 * ir_t / rt60)
    ir[0] = 8.0  # direct path
    wet = signal.fftconvolve(x, ir)[:n]
    wet *= np.std(x) / (np.std(wet) + 1e-12)
    return wet + noise_level * np.std(x) * floor / (np.std(floor) + 1e-12)
