"""``dcase-synth``: DCASE Task 2-like data written in the official layout and file names of a year.

Physics (per machine type, 16 kHz, 10 s): a rotating source — fundamental f_r = operating speed,
harmonic series with a type-specific envelope, amplitude-modulated broadband flow/friction noise —
plus factory background noise. Domain shift (2021+): the target domain runs at another operating
speed and in another background noise than the source domain, as in MIMII DG / ToyADMOS2. Anomalies
are the classic rotating-machine faults, at random severity so that detection is not trivial:
bearing defect (a non-harmonic tone with impacts at the defect rate), imbalance (first harmonic
raised), rub (impacts once per revolution ringing a high mode), looseness (amplitude modulation at f_r).

2026 (near/far stereo, nttcslab/dcase2023_task2_baseline_ae README: left = near mic, "equivalent to the
previous mono"; right = far mic): the left channel is the single-microphone mixture above; the right one
hears the same machine from farther away in the same room (:func:`two_microphones`): 1/r spherical
spreading of the direct path and its propagation delay, a diffuse reverberant field whose level does
not depend on the distance (so the far microphone's direct-to-reverberant ratio is lower), the same
diffuse factory noise partly decorrelated, plus a noise source near the far microphone.

Layout (what the official Zenodo zips unpack to)::

    <root>/dev_data/<machine>/train|test/…   <root>/eval_data/<machine>/train|test/…
    <root>/dev_data/<machine>/attributes_XX.csv                              (2022+)
    <root>/ground_truth/…   the eval ground truth in the official evaluator's format

Every file is a pure function of (generator version, year, machine, file identity).
"""
from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal
from tqdm import tqdm

GENERATOR_VERSION = "1"
SR = 16_000       # DCASE T2: 16 kHz 16-bit (Zenodo dataset descriptions); mono, 2026: stereo
SECONDS = 10.0    # ~10-s clips
FAULTS = ("bearing", "imbalance", "rub", "looseness")


@dataclass(frozen=True)
class Planned:
    path: str            # relative to the root
    set: str             # dev | eval
    machine: str
    unit: str            # "00" (section or machine ID)
    split: str           # train | test
    domain: str          # source | target
    label: str           # normal | anomaly
    index: int
    attributes: str
    speed: float
    public: str = ""     # eval test: the anonymised name


def rng_for(*words: object) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(f"{GENERATOR_VERSION}|{w}".encode()) for w in words])


def units_of(year: int, set_name: str) -> list[str]:
    if year == 2020:
        # dev/eval machine IDs differ (nttcslab/dcase2023_task2_baseline_ae machine_type_legacy.yaml)
        return ["00", "02"] if set_name == "dev" else ["01", "03"]
    if year in (2021, 2022):
        return ["00", "01", "02"] if set_name == "dev" else ["03", "04", "05"]
    return ["00"]


def counts(year: int, scale: float) -> tuple[int, int, int]:
    """(source train, target train, test clips per domain × label) at ``scale``."""
    src, tgt, test = (1000, 0, 100) if year == 2020 else ((1000, 3, 100) if year == 2021 else (990, 10, 50))
    return max(8, round(src * scale)), (max(1, round(tgt * scale)) if tgt else 0), max(3, round(test * scale))


def _speeds(machine: str, unit: str) -> tuple[list[int], int]:
    r = rng_for("speeds", machine, unit)
    base = int(r.integers(20, 60))
    src = [base, base + 2, base + 4]
    return src, int(round(base * r.uniform(1.2, 1.4)))


def _attr(speed: int, domain: str) -> str:
    return f"spd_{speed}_nz_{'A' if domain == 'source' else 'B'}"


def _name(year: int, p: Planned) -> str:
    if year == 2020:
        return f"{'normal' if p.split == 'train' else p.label}_id_{p.unit}_{p.index:08d}.wav"
    tail = "" if year == 2021 and p.split == "test" else f"_{p.attributes}"
    return f"section_{p.unit}_{p.domain}_{p.split}_{p.label}_{p.index:04d}{tail}.wav"


HIDDEN_2024 = {"gearbox", "slider", "ToyTrain",  # dev; 2024 "Hidden attributes" (_noAttribute names)
               "AirCompressor", "BrushlessMotor", "HoveringDrone", "ToothBrush"}  # eval


def _hidden(year: int, machine: str) -> bool:
    """2024 hid the attributes of these machine types (file names end ``_noAttribute.wav``)."""
    return year == 2024 and machine in HIDDEN_2024


def plan(year: int, machines: dict[str, tuple[str, ...]], scale: float = 1.0) -> list[Planned]:
    n_src, n_tgt, n_test = counts(year, scale)
    out: list[Planned] = []
    for set_name, types in machines.items():
        for m in types:
            first = 1 if year == 2024 and zlib.crc32(m.encode()) % 3 == 0 else 0  # 2024 mixes 0/1-based numbering
            for unit in units_of(year, set_name):
                src_speeds, tgt_speed = _speeds(m, unit)
                rows = [("train", "source", "normal", i) for i in range(n_src)]
                rows += [("train", "target", "normal", i) for i in range(n_tgt)]
                for dom in (("source",) if year == 2020 else ("source", "target")):
                    k = 0
                    for label in ("normal", "anomaly"):
                        for _ in range(n_test):
                            rows.append(("test", dom, label, k))
                            k += 1
                for split, dom, label, i in rows:
                    speed = tgt_speed if dom == "target" else src_speeds[i % 3]
                    attrs = _attr(speed, dom)
                    out.append(Planned("", set_name, m, unit, split, dom, label, i + first, attrs, speed))
    return [_place(year, p) for p in _anonymise(year, out)]


def _anonymise(year: int, clips: list[Planned]) -> list[Planned]:
    """Eval test clips get the public names of the year, in a shuffled order (labels hidden)."""
    out, groups = [], {}
    for p in clips:
        if p.set == "eval" and p.split == "test":
            key = (p.machine, p.unit, p.domain if year == 2021 else "")
            groups.setdefault(key, []).append(p)
        else:
            out.append(p)
    for (machine, unit, dom), members in groups.items():
        order = rng_for("shuffle", machine, unit, dom).permutation(len(members))
        for k, j in enumerate(order):
            p = members[j]
            public = (f"id_{unit}_{k:08d}.wav" if year == 2020 else
                      f"section_{unit}_{dom}_test_{k:04d}.wav" if year == 2021 else f"section_{unit}_{k:04d}.wav")
            out.append(Planned(**{**p.__dict__, "public": public}))
    return out


def _place(year: int, p: Planned) -> Planned:
    name = p.public or _name(year, p)
    if _hidden(year, p.machine) and not p.public and year != 2021:
        name = name.replace(f"_{p.attributes}.wav", "_noAttribute.wav")
    folder = "train" if p.split == "train" else (f"{p.domain}_test" if year == 2021 else "test")
    return Planned(**{**p.__dict__, "path": f"{p.set}_data/{p.machine}/{folder}/{name}"})


# --- signals ---------------------------------------------------------------------------------------

def _band(n: int, lo: float, hi: float, r: np.random.Generator) -> np.ndarray:
    sos = signal.butter(4, [lo, min(hi, SR / 2 * 0.95)], btype="bandpass", fs=SR, output="sos")
    x = signal.sosfilt(sos, r.standard_normal(n + 1024))[1024:]
    return x / (x.std() + 1e-12)


def _tones(t: np.ndarray, f: np.ndarray, amps: np.ndarray, r: np.random.Generator) -> np.ndarray:
    phase = 2 * np.pi * np.cumsum(f) / SR
    return sum(a * np.sin((k + 1) * phase + r.uniform(0, 6.3)) for k, a in enumerate(amps) if (k + 1) * f.max() < 7600)


def _impacts(n: int, rate: float, mode: float, r: np.random.Generator) -> np.ndarray:
    train = np.zeros(n)
    pos = r.uniform(0, SR / rate)
    while pos < n:
        train[int(pos)] = r.uniform(0.5, 1.5)
        pos += SR / rate * (1 + r.normal(0, 0.03))
    t = np.arange(int(0.02 * SR)) / SR
    return signal.fftconvolve(train, np.exp(-t / 0.003) * np.sin(2 * np.pi * mode * t))[:n]


def machine_sound(machine: str, speed: float, fault: str | None, r: np.random.Generator) -> np.ndarray:
    n = int(SR * SECONDS)
    t = np.arange(n) / SR
    sig = rng_for("type", machine)  # the machine type's fixed character
    envelope = sig.uniform(0.1, 1.0, 12) / np.arange(1, 13) ** sig.uniform(0.3, 1.0)
    lo, hi = sorted(sig.uniform(300, 6000, 2))
    fr = speed * (1 + r.normal(0, 0.01)) * (1 + 0.004 * np.sin(2 * np.pi * r.uniform(0.1, 0.5) * t))
    amps = envelope * r.uniform(0.85, 1.15, 12)
    severity = r.uniform(0.3, 1.0)
    if fault == "imbalance":
        amps[0] *= 1 + 2.5 * severity
    x = _tones(t, fr, amps, r)
    x += 0.5 * _band(n, lo, hi + 200, r) * (1 + 0.5 * np.sin(2 * np.pi * fr.mean() / 2 * t))
    if fault == "bearing":
        x += 0.35 * severity * np.sin(2 * np.pi * 3.57 * fr * t)
        x += 0.8 * severity * _impacts(n, 3.57 * fr.mean(), sig.uniform(2500, 4500), r)
    elif fault == "rub":
        x += 1.5 * severity * _impacts(n, fr.mean(), sig.uniform(3000, 6000), r)
    elif fault == "looseness":
        x *= 1 + 0.7 * severity * np.sin(2 * np.pi * fr.mean() * t)
    return x / (x.std() + 1e-12)


def background(kind: str, n: int, r: np.random.Generator) -> np.ndarray:
    """Factory noise: A = pink floor + 50 Hz hum; B = brown floor + a distant machine + a vent band."""
    white = np.fft.rfft(r.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    white[1:] /= f[1:] ** (0.5 if kind == "A" else 1.0)
    white[0] = 0
    x = np.fft.irfft(white, n)
    x /= x.std() + 1e-12
    t = np.arange(n) / SR
    if kind == "A":
        x += 0.3 * sum(np.sin(2 * np.pi * 50 * k * t + r.uniform(0, 6.3)) / k for k in range(1, 5))
    else:
        x += 0.4 * np.sin(2 * np.pi * r.uniform(90, 140) * t) + 0.5 * _band(n, 1500, 2500, r)
    return x / (x.std() + 1e-12)


def render(year: int, p: Planned) -> np.ndarray:
    """(samples,) float32 — or (samples, 2) for the 2026 near/far stereo — peak 0.3 over all channels."""
    r = rng_for("clip", year, p.set, p.machine, p.unit, p.split, p.domain, p.label, p.index)
    fault = FAULTS[int(r.integers(len(FAULTS)))] if p.label == "anomaly" else None
    x = machine_sound(p.machine, p.speed, fault, r)
    snr_db = r.uniform(0, 6)
    kind = "A" if p.domain == "source" else "B"
    noise = background(kind, len(x), r) * 10 ** (-snr_db / 20)
    y = x + noise if year not in STEREO_YEARS else two_microphones(x, noise, kind, room_of(p.machine, p.unit), r)
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


# --- 2026: near and far microphone ------------------------------------------------------------------

STEREO_YEARS = (2026,)   # DCASE 2026: two channels, left = near mic, right = far mic (baseline README)
SOUND_SPEED = 343.0      # m/s, air at 20 °C
NEAR_M = 0.3             # near-microphone distance to the machine (m)


@dataclass(frozen=True)
class Room:
    """One machine's fixed recording geometry: far-mic distance, critical distance (where the direct
    and the diffuse reverberant energy are equal), reverberation time, and the two room responses."""

    far_m: float
    critical_m: float
    rt60: float
    tails: tuple[np.ndarray, np.ndarray]   # unit-energy diffuse tails at the near / far position


def room_of(machine: str, unit: str) -> Room:
    r = rng_for("room", machine, unit)
    far_m, critical_m, rt60 = r.uniform(1.0, 2.0), r.uniform(1.0, 2.0), r.uniform(0.25, 0.5)
    t = np.arange(int(rt60 * SR)) / SR
    env = np.exp(-6.9 * t / rt60)        # -60 dB at rt60 (ln 1000 = 6.9)
    env[: int(0.005 * SR)] = 0           # first reflections arrive after the direct sound
    tails = tuple(e / np.sqrt(np.sum(e * e)) for e in (r.standard_normal(len(t)) * env for _ in range(2)))
    return Room(far_m, critical_m, rt60, tails)  # type: ignore[arg-type]


def two_microphones(x: np.ndarray, noise: np.ndarray, kind: str, room: Room, r: np.random.Generator) -> np.ndarray:
    """(n, 2): [near, far]. Direct path ∝ 1/distance with its delay; the diffuse reverberant field's level
    is distance-independent (∝ 1/critical distance); the diffuse factory noise reaches both positions at
    one level, partly decorrelated; the far position adds a local noise source (fan/vent band + hum)."""
    n = len(x)
    channels = []
    for k, dist in enumerate((NEAR_M, room.far_m)):
        delay = int(round((dist - NEAR_M) / SOUND_SPEED * SR))
        direct = np.zeros(n)
        direct[delay:] = x[: n - delay] * NEAR_M / dist
        reverb = signal.fftconvolve(x, room.tails[k])[:n] * NEAR_M / room.critical_m
        channels.append(direct + reverb)
    rho = r.uniform(0.5, 0.8)  # coherence of the diffuse noise between the two positions
    other = background(kind, n, r) * np.std(noise)
    t = np.arange(n) / SR
    local = _band(n, r.uniform(200, 600), r.uniform(1200, 3000), r) + 0.5 * np.sin(2 * np.pi * r.uniform(95, 125) * t)
    local *= np.std(noise) * r.uniform(0.5, 1.0) / (np.std(local) + 1e-12)
    near = channels[0] + noise
    far = channels[1] + rho * noise + np.sqrt(1 - rho * rho) * other + local
    return np.stack([near, far], axis=1)


# --- writing -----------------------------------------------------------------------------------------

def write_dcase_synth(root: Path, year: int, machines: dict[str, tuple[str, ...]], scale: float = 1.0,
                      progress: bool = True) -> list[Planned]:
    """Write the tree (existing files are kept: they are deterministic) and its eval ground truth."""
    root = Path(root)
    clips = plan(year, machines, scale)
    for p in tqdm(clips, desc=f"dcase{year}-synth", unit="clip", disable=not progress):
        path = root / p.path
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        sf.write(str(tmp), render(year, p), SR, subtype="PCM_16", format="WAV")
        tmp.replace(path)
    _write_tables(root, year, clips)
    return clips


def _csv(path: Path, rows: list[list[str]], header: list[str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        if header:
            w.writerow(header)
        w.writerows(rows)


def _write_tables(root: Path, year: int, clips: list[Planned]) -> None:
    by: dict[tuple, list[Planned]] = {}
    for p in clips:
        by.setdefault((p.set, p.machine, p.unit), []).append(p)
    gt = root / "ground_truth"
    list_2020: dict[str, list[list[str]]] = {}
    for (set_name, m, unit), members in sorted(by.items()):
        if year >= 2022:  # attributes_XX.csv at the machine root (train + dev test clips)
            rows = [[f"{m}/{Path(p.path).parent.name}/{Path(p.path).name}", "spd", str(int(p.speed)), "nz",
                     "A" if p.domain == "source" else "B"] for p in members if not p.public]
            _csv(root / f"{set_name}_data" / m / f"attributes_{unit}.csv", rows, ["file_name", "d1p", "d1v", "d2p", "d2v"])
        if _hidden(year, m):  # the later correspondence files (full name, noAttribute name)
            for split in ("train", "test"):
                rows = [[_name(year, p), Path(p.path).name] for p in members if p.split == split and not p.public]
                if rows:
                    _csv(root / f"{set_name}_data" / m / f"attributes_{unit}_{split}_correspondence.csv", rows,
                         ["source_file_name", "target_file_name"])
        tests = sorted((p for p in members if p.public), key=lambda p: p.public)
        if not tests:
            continue
        if year == 2020:
            list_2020.setdefault(m, []).extend([p.public, _name(year, p), str(int(p.label == "anomaly"))] for p in tests)
            continue
        for dom in (("source", "target") if year == 2021 else ("",)):
            part = [p for p in tests if not dom or p.domain == dom]
            stem = f"ground_truth_{m}_section_{unit}_{dom + '_' if dom else ''}test.csv"
            _csv(gt / "ground_truth_data" / stem, [[p.public, str(int(p.label == "anomaly"))] for p in part])
            if year >= 2022:
                _csv(gt / "ground_truth_domain" / stem, [[p.public, str(int(p.domain == "target"))] for p in part])
            if year >= 2023:
                _csv(gt / "ground_truth_attributes" / stem, [[p.public, Path(_name(year, p)).stem] for p in part])
    if list_2020:
        gt.mkdir(parents=True, exist_ok=True)
        with open(gt / "eval_data_list.csv", "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            for m, rows in list_2020.items():
                w.writerow([m])
                w.writerows(rows)
