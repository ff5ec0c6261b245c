"""``listen-onsite-synth``: a SYNTHETIC stand-in for the LISTEN on-site CNC data (not the LISTEN data).

Written in the release layout that :mod:`impact_bench.suites.listen` reads::

    <root>/Datasets/Onsite_Train/train_list.csv           filepath,start_sample,label,class_name
    <root>/Datasets/Onsite_Train/<class>/audio_YYYYMMDD_HHMMSS_cc.wav
    <root>/Datasets/Onsite_Test/test/<class>/audio_YYYYMMDD_HHMMSS_cc.wav

Modelled: one CNC machining centre recorded by a microphone on a shop floor (48 kHz, mono, 16-bit).
``Off``: shop-floor ambient only (pink noise, mains hum, a distant machine), low level. ``On``: spindle
idling (unbalance harmonics of RPM/60, bearing noise) plus coolant pump and cabinet fan hum.
``Mode1..Mode8``: milling at eight (RPM, feed, depth) operating points with a two-flute end mill:
spindle fundamental RPM/60, tooth-passing harmonics scaled by chip load and depth, broadband cutting
noise modulated at the tooth-passing rate and scaled by the material-removal rate, a forced tool-tip
resonance. Modes 3/4 and 5/6 share a spindle speed (they differ only in feed or depth), so the task
is not trivially separable. Every clip is a pure function of (generator version, split, class, index)
and carries a random gain (±6 dB), so two runs write byte-identical trees.
"""
from __future__ import annotations

import csv
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile as sf
from scipy import signal
from tqdm import tqdm

from impact_bench.errors import ImpactBenchError
from impact_bench.suites.listen import MANIFEST, TEST_DIR, TRAIN_DIR
from impact_bench.suites.spec import SuiteSpec
from impact_bench.synth import physics as ph

GENERATOR_VERSION = "1"
FLUTES = 2
RADIAL_MM = 3.0  # radial width of cut (fixed)
TRAIN_PER_CLASS = 20  # the release's train_list.csv: 20 clips per class
TEST_COUNTS = {"Mode1": 84, "Mode2": 83, "Mode3": 81, "Mode4": 81, "Mode5": 79, "Mode6": 83, "Mode7": 82,
               "Mode8": 84, "Off": 80, "On": 301}  # Onsite_Test/test at the release's HEAD
LABELS = {"Off": 0, "On": 1, **{f"Mode{i}": i + 1 for i in range(1, 9)}}  # the release's CSV labels
LONG_SECONDS, LONG_START = 1.5, 12_000  # one training row per class reads a window of a longer file


class Cut(NamedTuple):
    rpm: float
    feed_mm_min: float
    depth_mm: float


MODES = {  # pairs 3/4 (feed) and 5/6 (depth) share a spindle speed
    "Mode1": Cut(3000, 300, 0.5), "Mode2": Cut(4500, 450, 0.5), "Mode3": Cut(6000, 600, 1.0),
    "Mode4": Cut(6000, 900, 1.0), "Mode5": Cut(8000, 800, 1.5), "Mode6": Cut(8000, 800, 2.0),
    "Mode7": Cut(10000, 1200, 1.0), "Mode8": Cut(12000, 1500, 0.5),
}
IDLE_RPM = 1500.0


def rng_for(*words: object) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(f"listen|{GENERATOR_VERSION}|{w}".encode()) for w in words])


def partials(n: int, f0: float, amps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:func:`physics.harmonics` for a steady ``f0`` below Nyquist/len(amps), by complex rotation (fast)."""
    z = np.exp(2j * np.pi * f0 / ph.SR * np.arange(1, n + 1))
    w, out = np.ones(n, dtype=complex), np.zeros(n)
    for a in amps:
        w *= z
        phase = rng.uniform(0, 2 * np.pi)
        out += a * (np.sin(phase) * w.real + np.cos(phase) * w.imag)
    return out


def shop_floor(n: int, rng: np.random.Generator) -> np.ndarray:
    """Ambient: pink noise, 60 Hz mains hum, a distant machine's low tones (unit RMS)."""
    hum = partials(n, rng.normal(60.0, 0.05), np.array([1.0, 0.5, 0.3, 0.2]), rng)
    distant = partials(n, rng.uniform(20, 40), rng.uniform(0, 1, 6), rng)
    x = ph.pink_noise(n, rng) + 0.3 * hum + 0.2 * distant / (np.std(distant) + 1e-12)
    return x / (np.std(x) + 1e-12)


def microphone(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """As :func:`physics.microphone`: room reverberation (RT60 0.15–0.45 s) plus the shop-floor ambient."""
    rt60 = rng.uniform(0.15, 0.45)
    t = ph.time_axis(int(rt60 * ph.SR))
    ir = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)
    ir[0] = 8.0  # direct path
    wet = signal.fftconvolve(x, ir)[: len(x)]
    return wet / (np.std(wet) + 1e-12) + rng.uniform(0.1, 0.3) * shop_floor(len(x), rng)


def auxiliaries(n: int, rng: np.random.Generator) -> np.ndarray:
    """Coolant pump motor (4-pole, ~29.3 Hz), cabinet fan blade pass and coolant flow noise."""
    pump = partials(n, rng.normal(29.3, 0.1), np.array([1.0, 0.6, 0.3, 0.4, 0.1, 0.2]), rng)
    fan = partials(n, 7 * rng.normal(48.0, 0.3), np.array([1.0, 0.3, 0.1]), rng)
    flow = ph.am(ph.band_noise(n, 300, 6000, rng), rng.uniform(0.5, 3), 0.3, rng)
    return 0.3 * pump + 0.15 * fan + 0.25 * flow


def spindle(n: int, rpm: float, rng: np.random.Generator) -> np.ndarray:
    """Free-running spindle: unbalance at RPM/60 (and a few harmonics), bearing noise rising with speed."""
    fr = rpm / 60 * (1 + rng.normal(0, 0.005))
    x = 0.3 * (rpm / 6000) * partials(n, fr, np.array([1.0, 0.3, 0.15, 0.05]), rng)
    return x + 0.1 * (rpm / 6000) ** 1.5 * ph.band_noise(n, 2000, 14000, rng)


def cutting(n: int, cut: Cut, rng: np.random.Generator) -> np.ndarray:
    """Milling: tooth-passing harmonics ∝ chip load × depth, MRR-scaled broadband noise, tool-tip mode."""
    fr = cut.rpm / 60 * (1 + rng.normal(0, 0.005))  # spindle speed regulation
    ft = FLUTES * fr
    chip = cut.feed_mm_min / (cut.rpm * FLUTES)  # mm per tooth
    force = cut.depth_mm * chip / 0.05  # relative cutting force (1 at 1 mm depth, 0.05 mm/tooth)
    mrr = RADIAL_MM * cut.depth_mm * cut.feed_mm_min / 1000  # cm³/min
    k = np.arange(1, 25)
    amps = np.where(k % FLUTES == 0, force / (k / 2) ** 0.8, 0.15 * force / k)
    x = partials(n, fr, amps * rng.uniform(0.8, 1.2, len(k)), rng)
    x += 0.3 * np.sqrt(mrr) * ph.am(ph.band_noise(n, 1000, 12000, rng), ft, 0.7, rng)
    x += force * rng.uniform(0.05, 0.3) * ph.resonance(ph.band_noise(n, 1000, 4000, rng), rng.normal(2600, 40), 12)
    return x + spindle(n, cut.rpm, rng)


def synth_clip(name: str, split: str, index: int, seconds: float = 1.0) -> np.ndarray:
    """Clip ``index`` of class ``name`` in ``split`` as float32 (deterministic)."""
    rng = rng_for("clip", split, name, index)
    n = int(round(seconds * ph.SR))
    if name == "Off":
        x, level_db = shop_floor(n, rng), -50.0
    elif name == "On":
        x, level_db = microphone(spindle(n, IDLE_RPM, rng) + auxiliaries(n, rng), rng), -34.0
    elif name in MODES:
        cut = MODES[name]
        mrr = RADIAL_MM * cut.depth_mm * cut.feed_mm_min / 1000
        x = microphone(cutting(n, cut, rng) + auxiliaries(n, rng), rng)
        level_db = -28.0 + 3.0 * np.log10(mrr)
    else:
        raise ImpactBenchError(f"listen-onsite-synth: no sound model for class {name!r}")
    x = x / (np.std(x) + 1e-12) * 10 ** ((level_db + rng.uniform(-6, 6)) / 20)
    return np.clip(x, -0.99, 0.99).astype(np.float32)


class Planned(NamedTuple):
    name: str
    split: str
    index: int
    path: Path  # relative to the root
    start: int
    seconds: float


def file_name(name: str, split: str, index: int) -> str:
    """``audio_YYYYMMDD_HHMMSS_cc.wav``: one recording session per split, one slot per class."""
    day = datetime(2025, 7, 2, 9, 0, 0) + timedelta(days=0 if split == "train" else 1)
    stamp = day + timedelta(minutes=40 * sorted(LABELS).index(name), seconds=3 * index)
    return f"audio_{stamp:%Y%m%d_%H%M%S}_{index % 100:02d}.wav"


def plan(spec: SuiteSpec, scale: float = 1.0) -> list[Planned]:
    """Train (``max(2, round(20·scale))``) and test (``max(2, round(real·scale))``) clips per class."""
    out: list[Planned] = []
    for name in (t.id for t in spec.tasks):
        if name not in LABELS:
            raise ImpactBenchError(f"listen-onsite-synth: no sound model for class {name!r}")
        for i in range(max(2, round(TRAIN_PER_CLASS * scale))):
            long = i == 0
            out.append(Planned(name, "train", i, Path(TRAIN_DIR) / name / file_name(name, "train", i),
                               LONG_START if long else 0, LONG_SECONDS if long else 1.0))
        for i in range(max(2, round(TEST_COUNTS[name] * scale))):
            out.append(Planned(name, "test", i, Path(TEST_DIR) / name / file_name(name, "test", i), 0, 1.0))
    return out


def _write_manifest(root: Path, rows: list[Planned]) -> None:
    path = root / TRAIN_DIR / MANIFEST
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["filepath", "start_sample", "label", "class_name"])
        for r in sorted(rows, key=lambda r: (r.name, r.path.name)):
            w.writerow([r.path.as_posix(), r.start, LABELS[r.name], r.name])
    tmp.replace(path)


def write_listen_synth(spec: SuiteSpec, root: Path, scale: float = 1.0, progress: bool = True) -> int:
    """Write the tree under ``root`` (manifest last); returns the number of audio files written or kept."""
    root = Path(root)
    clips = plan(spec, scale)
    for c in tqdm(clips, desc="listen-onsite-synth", unit="clip", disable=not progress):
        path = root / c.path
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        sf.write(str(tmp), synth_clip(c.name, c.split, c.index, c.seconds), ph.SR, subtype="PCM_16", format="WAV")
        tmp.replace(path)
    _write_manifest(root, [c for c in clips if c.split == "train"])
    return len(clips)
