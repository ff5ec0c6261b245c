"""``dinos-synth``: the 30 DINOS downstream classes written in the real release layout.

Layout (the same one :mod:`impact_bench.suites.dinos` reads for real data)::

    <root>/DINOS_Downstreams_{train,test}/<Machine>/<class folder>/*.wav   (48 kHz, 16-bit, 1 s)

Every clip is a pure function of (generator version, task, clip index), so two runs write
byte-identical trees. Each clip gets a random gain (-12..+6 dB) so that level alone never
separates classes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf
from tqdm import tqdm

from impact_bench.suites.spec import SuiteSpec, TaskSpec
from impact_bench.synth import physics as ph

GENERATOR_VERSION = "1"
SEED = 20_250_707
TOOL_MM = 6.35  # Appendix A.1: 1/4-inch two-flute end mill on the Yornew VMC-300
FLUTES = 2
TRAIN_SHARE = 0.8  # share of each class written to the *_train folder (the rest to *_test)

COLDSPRAY_FOLDERS = {  # numbered folders; 1 and 5 are the names known from the release
    "T23": "1-normal_stethoscope", "T24": "2-depleted_powder_stethoscope",
    "T25": "3-powder_clogging_stethoscope", "T26": "4-no_gas_stethoscope",
    "T27": "5-normal_mic", "T28": "6-depleted_powder_mic",
    "T29": "7-powder_clogging_mic", "T30": "8-no_gas_mic",
}
SIMPLE_FOLDERS = {"T1": "On", "T2": "Off", "T3": "On", "T4": "Off", "T5": "Warm-up"}


def class_folder(task: TaskSpec, index_in_machine: int) -> str:
    """Folder name as the release writes it (Yornew: ``NNN-<CD>_<tool>_<MRR>_<RPM>_<state>``)."""
    if task.machine == "Yornew":
        state = "chatter" if task.chatter == "Y" else "stable"
        return f"{index_in_machine + 1:03d}-{task.cutting_depth_mm:.1f}_{TOOL_MM}_{task.mrr}_{task.rpm}_{state}"
    if task.machine == "ColdSpray":
        return COLDSPRAY_FOLDERS[task.id]
    return SIMPLE_FOLDERS[task.id]


# --- machine models --------------------------------------------------------------------------

def renishaw(task: TaskSpec, rng: np.random.Generator, n: int) -> np.ndarray:
    """LPBF: fans, pumps, argon recirculation; 'on' adds the ~3 kHz build peak (App. A.2, Fig. 4a)."""
    fan = ph.harmonics(n, rng.uniform(110, 130), np.array([1, 0.6, 0.4, 0.2]) * rng.uniform(0.5, 1.0), rng)
    x = 0.4 * fan + 0.3 * ph.pink_noise(n, rng) + 0.2 * ph.band_noise(n, 500, 4000, rng)
    if task.description == "On":
        peak = ph.resonance(ph.band_noise(n, 2000, 4000, rng), rng.uniform(2850, 3150), 8)
        x += rng.uniform(0.25, 0.6) * ph.am(peak, rng.uniform(5, 20), 0.6, rng)
    return ph.stethoscope(x, rng)


def vf2(task: TaskSpec, rng: np.random.Generator, n: int) -> np.ndarray:
    """Haas VF-2: idle pumps; cutting ABS with a 2-flute 1/2" mill; warm-up spindle sweeps + axis moves."""
    pump = ph.harmonics(n, rng.uniform(28, 31), rng.uniform(0.2, 1.0, 5), rng)
    x = 0.3 * pump + 0.25 * ph.band_noise(n, 100, 3000, rng)
    if task.description == "On":
        fr = rng.uniform(3000, 5000) / 60
        x += ph.harmonics(n, fr, np.array([0.3, 1.0, 0.2, 0.6, 0.1, 0.35, 0.05, 0.2]), rng)
        x += 0.4 * ph.am(ph.band_noise(n, 1000, 6000, rng), FLUTES * fr, 0.8, rng)
    elif task.description == "Warm-up":
        start, end = rng.uniform(500, 2500), rng.uniform(4000, 8100)  # max spindle 8,100 rpm (A.1)
        if rng.random() < 0.5:
            start, end = end, start
        fr = np.linspace(start, end, n) / 60
        x += 0.8 * ph.harmonics(n, fr, np.array([1.0, 0.5, 0.25, 0.1]), rng)
        servo = ph.harmonics(n, np.linspace(*rng.uniform(200, 600, 2), n), np.array([1.0, 0.3]), rng)
        gate = (np.sin(2 * np.pi * rng.uniform(0.5, 2) * ph.time_axis(n) + rng.uniform(0, 6)) > 0).astype(float)
        x += 0.4 * servo * gate
    return ph.stethoscope(x, rng)


def yornew(task: TaskSpec, rng: np.random.Generator, n: int, sensor: str) -> np.ndarray:
    """VMC-300 milling Al-6060: spindle RPM/60, tooth passing (2 flutes) harmonics scaled by MRR and
    cutting depth; chatter = self-excited narrow band near a structural mode + tooth-pass sidebands."""
    assert task.rpm and task.mrr and task.cutting_depth_mm
    fr = task.rpm / 60 * (1 + rng.normal(0, 0.01))  # spindle speed regulation ~1 %
    ft = FLUTES * fr
    force = (task.mrr / 25.4) ** 0.6
    k = np.arange(1, 31)
    amps = np.where(k % FLUTES == 0, force / (k / 2) ** 0.7, 0.15 * force / k)
    x = ph.harmonics(n, fr, amps * rng.uniform(0.7, 1.3, len(k)), rng)
    x += 0.35 * np.sqrt(task.mrr / 25.4) * ph.am(ph.band_noise(n, 800, 8000, rng), ft, 0.7, rng)
    mode = rng.normal(2350, 60)  # dominant structural mode of the spindle/tool system
    if task.chatter == "Y":
        level = force * rng.uniform(0.2, 1.6)  # incipient to fully developed chatter
        fc = mode + rng.uniform(-40, 40)
        core = ph.resonance(ph.band_noise(n, 1500, 3500, rng), fc, 30)
        x += level * core
        t = ph.time_axis(n)
        for side in (1, 2):
            x += 0.3 * level / side * core * np.cos(2 * np.pi * side * ft * t)
    else:  # forced (not self-excited) response of the same mode
        x += force * rng.uniform(0.0, 0.35) * ph.resonance(ph.band_noise(n, 1500, 3500, rng), mode, 10)
    x += 0.08 * ph.pink_noise(n, rng)
    return ph.stethoscope(x, rng) if sensor == "stethoscope" else ph.microphone(x, rng)


def coldspray(task: TaskSpec, rng: np.random.Generator, n: int) -> np.ndarray:
    """CSM 108.2 powder feeder (App. A.2, Fig. 4e-f): gas flow + damped valve impacts; depleted
    powder adds ~1.5/3.5 kHz collisions; clogging = stronger structural vibration; no gas = much lower."""
    cond = task.description
    gas = 0.0 if cond == "No gas supply" else 1.0
    rate = rng.uniform(95, 105)
    modes = [(420.0, 1.0), (900.0, 0.6), (2100.0, 0.3)]
    decay, amp = 0.008, 0.6
    if cond == "Depleted powder":
        modes += [(rng.normal(1500, 30), 0.9), (rng.normal(3500, 60), 0.7)]
        decay, amp = 0.02, 0.8
    elif cond == "Powder clogging":
        modes = [(180.0, 1.2)] + modes
        decay, amp = 0.03, 2.0
    x = gas * ph.am(ph.band_noise(n, 200, 20000, rng), rng.uniform(2, 8), 0.3, rng)
    vib = ph.impacts(n, rate, modes, decay, rng)
    x += amp * vib / (np.std(vib) + 1e-12)
    x += 0.05 * ph.pink_noise(n, rng)
    if gas == 0.0:
        x *= 0.1
    return ph.stethoscope(x, rng) if task.sensor == "stethoscope" else ph.microphone(x, rng, 0.5)


MODELS: dict[str, Callable[..., np.ndarray]] = {
    "RenishawL": renishaw, "VF2": vf2, "Yornew": yornew, "ColdSpray": coldspray,
}


def synth_clip(task: TaskSpec, index: int, sensor: str | None = None, seconds: float = 1.0) -> np.ndarray:
    """Clip ``index`` of ``task`` as float32 in [-1, 1] (deterministic)."""
    task_no = int(task.id[1:])
    sensor_no = 1 if sensor == "microphone" else 0
    rng = np.random.default_rng([SEED, task_no, index, sensor_no])
    n = int(seconds * ph.SR)
    model = MODELS[task.machine]
    x = model(task, rng, n, sensor) if task.machine == "Yornew" else model(task, rng, n)
    x = x / (np.max(np.abs(x)) + 1e-12) * 0.5 * 10 ** (rng.uniform(-12, 6) / 20)
    return np.clip(x, -0.99, 0.99).astype(np.float32)


@dataclass(frozen=True)
class PlannedClip:
    task: TaskSpec
    folder: str
    split: str
    filename: str
    index: int
    sensor: str | None


def plan(spec: SuiteSpec, scale: float = 1.0, min_per_class: int = 10) -> list[PlannedClip]:
    """Which files to write: Table 2 counts × ``scale`` (at least ``min_per_class``)."""
    clips: list[PlannedClip] = []
    per_machine: dict[str, int] = {}
    for task in spec.tasks:
        idx = per_machine.get(task.machine, 0)
        per_machine[task.machine] = idx + 1
        folder = class_folder(task, idx)
        count = max(min_per_class, int(round(task.samples * scale)))
        n_train = int(round(count * TRAIN_SHARE))
        for i in range(count):
            sensor = None
            if task.machine == "Yornew":  # both sensors pooled in one class (Table 2)
                sensor = "stethoscope" if i % 2 == 0 else "microphone"
            prefix = {"stethoscope": "steth_", "microphone": "mic_", None: ""}[sensor]
            split = "train" if i < n_train else "test"
            clips.append(PlannedClip(task, folder, split, f"{prefix}{i:05d}.wav", i, sensor))
    return clips


def _write(clips: list[PlannedClip], root: Path, machine_dir: Callable[[PlannedClip], str],
           folder_of: Callable[[PlannedClip], str], index_offset: int, desc: str, progress: bool) -> int:
    for clip in tqdm(clips, desc=desc, unit="clip", disable=not progress):
        folder = root / f"DINOS_Downstreams_{clip.split}" / machine_dir(clip) / folder_of(clip)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / clip.filename
        if path.exists():
            continue
        tmp = path.with_suffix(".tmp.wav")
        sf.write(str(tmp), synth_clip(clip.task, clip.index + index_offset, clip.sensor), ph.SR, subtype="PCM_16")
        tmp.replace(path)
    return len(clips)


def write_dinos_synth(spec: SuiteSpec, root: Path, scale: float = 1.0, progress: bool = True) -> int:
    """Write the tree under ``root``; returns the number of clips. Existing identical files are kept."""
    return _write(plan(spec, scale), root, lambda c: c.task.machine, lambda c: c.folder, 0, "dinos-synth", progress)


ANOMALY_INDEX_OFFSET = 1_000_000  # the anomaly folders hold other recordings of the same classes


def anomaly_folder(task: TaskSpec, folder: str) -> str:
    """Class folder inside ``<Machine>_anomaly/``: the authors' normal-class names where the operating
    point matches one (their numbering differs from Table 2's order), the classification name otherwise."""
    from impact_bench.anomaly.dataset import DINOS_NORMAL
    if task.machine == "Yornew":
        for name in DINOS_NORMAL["Yornew_anomaly"]:
            depth, _tool, _mrr, rpm, state = name.split("-", 1)[1].split("_")
            if (float(depth), int(rpm), state == "chatter") == (task.cutting_depth_mm, task.rpm, task.chatter == "Y"):
                return name
    return folder


def write_dinos_anomaly_synth(spec: SuiteSpec, root: Path, scale: float = 1.0, progress: bool = True) -> int:
    """``Yornew_anomaly/`` and ``ColdSpray_anomaly/`` under both split folders (the release's anomaly
    tasks): every Yornew and ColdSpray class, the authors' normal classes by their names."""
    clips = [c for c in plan(spec, scale) if c.task.machine in ("Yornew", "ColdSpray")]
    return _write(clips, root, lambda c: f"{c.task.machine}_anomaly", lambda c: anomaly_folder(c.task, c.folder),
                  ANOMALY_INDEX_OFFSET, "dinos-anomaly-synth", progress)
