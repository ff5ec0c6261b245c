"""``mimii-synth``: MIMII-like data in the official layout, ``<snr>/<machine>/id_XX/{normal,abnormal}/NNNNNNNN.wav``
(8 channels, 16 kHz, 16-bit; MIMII README, Zenodo 3384388).

As in MIMII, each machine recording is mixed with factory noise at −6, 0 and 6 dB SNR, so the three
SNR folders hold the *same* machine sounds under different noise. The eight channels are the
source seen by a circular array: per channel a small delay and gain, and independent sensor noise.
Counts follow MIMII's per-ID shape (about 1000 normal, 100–400 abnormal) × ``scale``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from impact_bench.synth.dcase_synth import FAULTS, SR, background, machine_sound, rng_for

GENERATOR_VERSION = "1"
SNRS = {"-6dB": ("-6_dB", -6.0), "0dB": ("0_dB", 0.0), "6dB": ("6_dB", 6.0)}  # folder as the zips unpack
MACHINES = ("fan", "pump", "slider", "valve")
IDS = ("id_00", "id_02", "id_04", "id_06")  # public 1.0 model IDs
CHANNELS = 8


@dataclass(frozen=True)
class Planned:
    machine: str
    id: str
    label: str   # normal | abnormal
    index: int


def plan(scale: float = 1.0, machines: tuple[str, ...] = MACHINES, ids: tuple[str, ...] = IDS) -> list[Planned]:
    out = []
    for m in machines:
        for i in ids:
            r = rng_for("mimii-counts", m, i)
            n_norm = max(6, round(int(r.integers(700, 1070)) * scale))
            n_abn = max(3, min(n_norm // 2, round(int(r.integers(90, 410)) * scale)))
            out += [Planned(m, i, "normal", k) for k in range(n_norm)]
            out += [Planned(m, i, "abnormal", k) for k in range(n_abn)]
    return out


def render(p: Planned, snr_db: float, seconds: float, channels: int) -> np.ndarray:
    r = rng_for("mimii", p.machine, p.id, p.label, p.index)
    speed = 25 + 10 * int(p.id[-2:]) / 6 + r.uniform(-1, 1)
    fault = FAULTS[int(r.integers(len(FAULTS)))] if p.label == "abnormal" else None
    x = machine_sound(f"mimii-{p.machine}", speed, fault, r)[: int(seconds * SR)]
    noise = background("A" if p.machine in ("fan", "pump") else "B", len(x), rng_for("noise", p.machine, p.id, p.index))
    out = np.empty((len(x), channels))
    for c in range(channels):  # array geometry: per-channel delay (samples) and gain
        shifted = np.roll(x, c) * (1 - 0.03 * c)
        out[:, c] = shifted + noise * 10 ** (-snr_db / 20) + 0.01 * r.standard_normal(len(x))
    return (0.3 * out / np.abs(out).max()).astype(np.float32)


def write_mimii_synth(root: Path, scale: float = 1.0, machines: tuple[str, ...] = MACHINES,
                      ids: tuple[str, ...] = IDS, seconds: float = 10.0, channels: int = CHANNELS,
                      progress: bool = True) -> int:
    clips = plan(scale, machines, ids)
    for p in tqdm(clips, desc="mimii-synth", unit="clip", disable=not progress):
        for folder, snr_db in SNRS.values():
            path = Path(root) / folder / p.machine / p.id / p.label / f"{p.index:08d}.wav"
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            sf.write(str(tmp), render(p, snr_db, seconds, channels), SR, subtype="PCM_16", format="WAV")
            tmp.replace(path)
    return len(clips) * len(SNRS)
