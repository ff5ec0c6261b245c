"""Synthetic pretraining corpus: ``<root>/DINOS_Pretrain/<category>/*.wav``, 59-s recordings.

Four categories in equal numbers, as the paper's pretraining set (Table 1, §4.1): CNC SK2540
(stethoscope), AM-LPBF RenishawR (stethoscope), AM-DED FormAlloy (stethoscope) and a shop floor
(microphone). Each recording is a sequence of 1-s segments whose operating state drifts
(spindle speed, laser on/off, powder feeders, passing machines), written as one 48 kHz file.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from impact_bench.synth import physics as ph

SEED = 20_250_708
SECONDS = 59  # Table 1: 59-s pretraining samples
CATEGORIES = ("CNC_SK2540", "AM-LPBF_RenishawR", "AM-DED_FormAlloy", "ShopFloor")


def _segment(category: str, rng: np.random.Generator, state: dict[str, float]) -> np.ndarray:
    n = ph.SR
    if category == "CNC_SK2540":  # up to 24,000 rpm aerospace aluminium machining (App. A.1)
        state["rpm"] = float(np.clip(state["rpm"] + rng.normal(0, 600), 3000, 24000))
        fr = state["rpm"] / 60
        x = ph.harmonics(n, fr, rng.uniform(0.1, 1.0, 12), rng)
        if rng.random() < 0.6:  # cutting
            x += 0.5 * ph.am(ph.band_noise(n, 800, 10000, rng), 2 * fr, 0.7, rng)
        return ph.stethoscope(x + 0.1 * ph.pink_noise(n, rng), rng)
    if category == "AM-LPBF_RenishawR":
        x = 0.4 * ph.harmonics(n, state["fan"], np.array([1, 0.6, 0.3]), rng) + 0.3 * ph.pink_noise(n, rng)
        if rng.random() < 0.5:  # laser scanning
            x += 0.5 * ph.am(ph.resonance(ph.band_noise(n, 2000, 4000, rng), rng.uniform(2800, 3200), 8), 10, 0.5, rng)
        return ph.stethoscope(x, rng)
    if category == "AM-DED_FormAlloy":  # three powder feeders, coaxial laser, gas
        x = 0.6 * ph.band_noise(n, 300, 12000, rng)
        for _ in range(3):
            vib = ph.impacts(n, rng.uniform(40, 120), [(rng.uniform(300, 2500), 1.0)], 0.01, rng)
            x += 0.3 * vib / (np.std(vib) + 1e-12)
        return ph.stethoscope(x, rng)
    machines = sum(ph.harmonics(n, rng.uniform(20, 200), rng.uniform(0, 1, 5), rng) for _ in range(3))
    air = ph.band_noise(n, 2000, 16000, rng) * (rng.random() < 0.3)
    return ph.microphone(0.5 * machines / (np.std(machines) + 1e-12) + 0.4 * air, rng, 0.6)


def recording(category: str, index: int) -> np.ndarray:
    rng = np.random.default_rng([SEED, CATEGORIES.index(category), index])
    state = {"rpm": rng.uniform(6000, 20000), "fan": rng.uniform(100, 140)}
    parts = [_segment(category, rng, state) for _ in range(SECONDS)]
    x = np.concatenate([p / (np.std(p) + 1e-12) * rng.uniform(0.5, 1.5) for p in parts])
    return (x / (np.abs(x).max() + 1e-12) * 0.7).astype(np.float32)


def write_pretrain_synth(root: Path, per_category: int, progress: bool = True) -> int:
    jobs = [(c, i) for c in CATEGORIES for i in range(per_category)]
    for category, i in tqdm(jobs, desc="pretrain-synth", unit="rec", disable=not progress):
        path = Path(root) / "DINOS_Pretrain" / category / f"{category}_{i:05d}.wav"
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.wav")  # unique per process (torchrun ranks)
        sf.write(str(tmp), recording(category, i), ph.SR, subtype="PCM_16")
        tmp.replace(path)
    return len(jobs)
