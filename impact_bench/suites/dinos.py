"""Reader for the DINOS public release layout.

``<root>/DINOS_Downstreams_{train,test}/<Machine>/<class folder>/**/*.wav|flac``

Class folders map to task ids (T1-T30) by, in order: a ``--class-map`` CSV; Yornew's parameter
folder names ``NNN-<CD>_<tool mm>_<MRR>_<RPM>_<state>``; ColdSpray's numbering (``1-…`` to
``8-…``); keywords (``on``/``off``/``warm up``, ``normal``+``mic``, …). Anything unmatched is an
error listing the folders and the T-ids still without a folder. Several folders may feed one task
(e.g. one per sensor). ``*_anomaly`` machine folders belong to the anomaly suites and are skipped
with a notice.
"""
from __future__ import annotations

import csv
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from impact_bench.audio import AUDIO_EXTENSIONS
from impact_bench.errors import DataError
from impact_bench.suites.spec import SuiteSpec, TaskSpec

SPLITS = ("train", "test")
YORNEW_RE = re.compile(r"^(\d+)-([\d.]+)_([\d.]+)_([\d.]+)_(\d+)_([A-Za-z_-]+)$")
NUMBERED_RE = re.compile(r"^(\d+)[-_ ]")
NO_CHATTER = {"stable", "normal", "nochatter", "no_chatter", "no-chatter", "none", "n", "nonchatter"}


@dataclass(frozen=True)
class Clip:
    path: Path
    relpath: str  # relative to the dataset root, '/'-separated
    task: str
    problem: str
    release_split: str
    start: int = 0  # first sample to read (the LISTEN manifest's start_sample)


@dataclass
class DatasetIndex:
    root: Path
    clips: list[Clip]
    notices: list[str] = field(default_factory=list)
    subset: bool = False


def find_release_root(root: Path) -> Path:
    """The folder holding ``DINOS_Downstreams_train`` (also accepts ``root/Datasets``, ``root/DINOS``)."""
    candidates = [root, root / "Datasets", root / "DINOS", root / "DINOS" / "Datasets"]
    for cand in candidates:
        if any((cand / f"DINOS_Downstreams_{s}").is_dir() for s in SPLITS):
            return cand
    looked = ", ".join(str(c / "DINOS_Downstreams_{train,test}") for c in candidates)
    raise DataError(f"no DINOS release found under {root} (looked for {looked})")


def _tokens(name: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", name.lower()) if t and not t.isdigit()}


def _close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b))


def match_folder(folder: str, tasks: list[TaskSpec]) -> tuple[str | None, str]:
    """Task id for a class folder name, or (None, reason)."""
    m = YORNEW_RE.match(folder)
    if m and any(t.rpm is not None for t in tasks):
        _number, cd, _tool, mrr, rpm, state = m.groups()
        state = state.lower()
        chatter = "N" if state in NO_CHATTER else ("Y" if "chatter" in state else None)
        if chatter is None:
            return None, f"state {state!r} is neither chatter nor one of {sorted(NO_CHATTER)}"
        hits = [t.id for t in tasks if _close(t.cutting_depth_mm, float(cd)) and _close(t.mrr, float(mrr))
                and t.rpm == int(rpm) and t.chatter == chatter]
        if len(hits) == 1:
            return hits[0], ""
        return None, f"parameters CD {cd}, MRR {mrr}, RPM {rpm}, chatter {chatter} match no task"
    m = NUMBERED_RE.match(folder)
    if m and any(t.folder_number is not None for t in tasks):
        hits = [t.id for t in tasks if t.folder_number == int(m.group(1))]
        if len(hits) == 1:
            return hits[0], ""
    words = _tokens(folder)
    best: dict[str, int] = {}
    for t in tasks:
        for alias in t.aliases:
            need = set(alias.split())
            if need <= words:
                best[t.id] = max(best.get(t.id, 0), len(need))
    if best:
        top = max(best.values())
        winners = sorted(tid for tid, score in best.items() if score == top)
        if len(winners) == 1:
            return winners[0], ""
        return None, f"ambiguous: keywords match {winners}"
    return None, "no rule matches"


def read_class_map(path: Path, spec: SuiteSpec) -> dict[tuple[str, str], str]:
    """``--class-map`` CSV with header ``machine,folder,task``."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: class map is not UTF-8 text ({exc}); save it as UTF-8 CSV") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot read class map ({exc})") from exc
    if not {"machine", "folder", "task"} <= set(header):
        raise DataError(f"{path}: expected header 'machine,folder,task', got {header}")
    if not rows:
        raise DataError(f"{path}: the class map has a header but no rows")
    ids = {t.id for t in spec.tasks}
    mapping: dict[tuple[str, str], str] = {}
    for line, row in enumerate(rows, start=2):
        if row["task"] not in ids:
            raise DataError(f"{path}:{line}: field 'task' is {row['task']!r}; expected one of T1..T{len(ids)}")
        mapping[(row["machine"], row["folder"])] = row["task"]
    return mapping


def scan(root: Path, spec: SuiteSpec, class_map: Path | None = None,
         max_clips_per_class: int | None = None) -> DatasetIndex:
    """Index every clip of ``spec`` under ``root``; raises :class:`DataError` on any layout problem."""
    base = find_release_root(Path(root))
    overrides = read_class_map(class_map, spec) if class_map else {}
    machines = {t.machine for t in spec.tasks}
    notices: list[str] = []
    found: dict[str, list[Clip]] = defaultdict(list)
    unmatched: dict[str, list[str]] = defaultdict(list)
    seen_folders: set[tuple[str, str]] = set()
    for split in SPLITS:
        split_dir = base / f"DINOS_Downstreams_{split}"
        if not split_dir.is_dir():
            notices.append(f"{split_dir} does not exist; using the other split folder only")
            continue
        for machine_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            machine = machine_dir.name
            if machine.endswith("_anomaly"):
                notices.append(f"skipped {machine_dir}: anomaly task folder (scored by the anomaly suites)")
                continue
            if machine not in machines:
                notices.append(f"skipped {machine_dir}: machine {machine!r} is not part of suite {spec.name}")
                continue
            tasks = [t for t in spec.tasks if t.machine == machine]
            for folder in sorted(p for p in machine_dir.iterdir() if p.is_dir()):
                seen_folders.add((machine, folder.name))
                tid = overrides.get((machine, folder.name))
                if tid is None:
                    tid, why = match_folder(folder.name, tasks)
                    if tid is None:
                        unmatched[machine].append(f"{folder} ({why})")
                        continue
                files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
                if not files:
                    raise DataError(f"{folder}: class folder for {tid} holds no .wav/.flac files")
                problem = spec.problem_of(tid).name
                found[tid] += [Clip(f, f.relative_to(base).as_posix(), tid, problem, split) for f in files]
    unused = sorted(f"{m}/{f}" for (m, f) in overrides if (m, f) not in seen_folders)
    if unused:
        raise DataError(f"{class_map}: rows name class folders that do not exist under {base}: {', '.join(unused[:10])}")
    for machine in sorted(unmatched):
        missing = [t.id for t in spec.tasks if t.machine == machine and t.id not in found]
        raise DataError(
            f"{machine}: class folders not mapped to tasks:\n  " + "\n  ".join(unmatched[machine])
            + f"\nstill-unmatched task ids: {', '.join(missing) or '(none)'}"
            + "\nfix: pass --class-map CSV with header 'machine,folder,task'")
    missing_all = [t.id for t in spec.tasks if t.id not in found]
    if missing_all:
        raise DataError(f"{base}: no class folders found for tasks {', '.join(missing_all)} "
                        f"(machines expected: {', '.join(sorted(machines))})")
    clips: list[Clip] = []
    for task in spec.tasks:
        items = sorted(found[task.id], key=lambda c: c.relpath)
        if max_clips_per_class is not None:  # a deterministic spread over sensors and splits
            keep = sorted(items, key=lambda c: hashlib.sha1(c.relpath.encode()).hexdigest())[:max_clips_per_class]
            items = sorted(keep, key=lambda c: c.relpath)
        clips += items
    subset = max_clips_per_class is not None
    return DatasetIndex(base, clips, notices, subset)

