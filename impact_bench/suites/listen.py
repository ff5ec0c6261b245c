"""Reader for the LISTEN release layout (github.com/hanprd/LISTEN, ``Datasets/``).

``<root>/Datasets/Onsite_Train/train_list.csv`` (``filepath,start_sample,label,class_name``; paths
relative to ``<root>`` or absolute) lists the training clips; ``<root>/Datasets/Onsite_Test/test/
<class>/*.wav`` are the test clips, labelled by folder name, as ``LISTEN_test_downstream.py`` reads
them. Class order is the release's: its scripts sort the manifest's distinct ``class_name`` values
(``label`` is kept only as a consistency check: each class must carry one label). Every file must
be 48 kHz (the release raises on any other rate).
"""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import soundfile as sf

from impact_bench.errors import DataError
from impact_bench.suites.dinos import Clip, DatasetIndex
from impact_bench.suites.spec import SuiteSpec

TRAIN_DIR, TEST_DIR, MANIFEST = "Datasets/Onsite_Train", "Datasets/Onsite_Test/test", "train_list.csv"
COLUMNS = ("filepath", "start_sample", "label", "class_name")
RATE = 48_000  # DistillConfig sr; the release refuses other rates


def find_release_root(root: Path) -> Path:
    """The folder holding ``Datasets/Onsite_Train`` (also accepts the ``Datasets`` folder itself)."""
    for cand in (root, root.parent if root.name == "Datasets" else None):
        if cand is not None and (cand / TRAIN_DIR / MANIFEST).is_file():
            return cand
    raise DataError(f"no LISTEN release found under {root} (looked for {root / TRAIN_DIR / MANIFEST})")


def read_manifest(base: Path) -> list[tuple[Path, int, int, str, int]]:
    """(path, start_sample, label, class_name, csv line) per row; errors name the file, line and field."""
    path = base / TRAIN_DIR / MANIFEST
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise DataError(f"{path}: header must hold {','.join(COLUMNS)}; missing {missing} (got {header})")
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc}); expected the release's CSV manifest") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot read the manifest ({exc})") from exc
    out = []
    for line, row in enumerate(rows, start=2):
        for col in COLUMNS:
            if not (row.get(col) or "").strip():
                raise DataError(f"{path}:{line}: field '{col}' is empty")
        for col in ("start_sample", "label"):
            try:
                value = int(row[col])
            except ValueError:
                raise DataError(f"{path}:{line}: field '{col}' is {row[col]!r}; expected an integer") from None
            if value < 0:
                raise DataError(f"{path}:{line}: field '{col}' is {value}; expected ≥ 0")
        file = Path(row["filepath"])
        file = file if file.is_absolute() else base / file
        out.append((file, int(row["start_sample"]), int(row["label"]), row["class_name"].strip(), line))
    if not out:
        raise DataError(f"{path}: the manifest lists no clips")
    return out


def _check_rate(file: Path) -> int:
    try:
        info = sf.info(str(file))
    except Exception as exc:
        raise DataError(f"{file}: cannot read audio header ({exc}); expected a 48 kHz WAV") from exc
    if info.samplerate != RATE:
        raise DataError(f"{file}: sample rate {info.samplerate} Hz; the LISTEN release (and this suite) expects "
                        f"{RATE} Hz")
    return info.frames


def scan(root: Path, spec: SuiteSpec, max_clips_per_class: int | None = None) -> DatasetIndex:
    """Every training (manifest) and test (folder) clip; raises :class:`DataError` on any layout problem."""
    base = find_release_root(Path(root))
    manifest = base / TRAIN_DIR / MANIFEST
    rows = read_manifest(base)
    suite_classes = [t.id for t in spec.tasks]
    labels: dict[str, set[int]] = defaultdict(set)
    for _file, _start, label, name, line in rows:
        if name not in suite_classes:
            raise DataError(f"{manifest}:{line}: class_name {name!r} is not a class of suite {spec.name} "
                            f"({', '.join(suite_classes)})")
        labels[name].add(label)
    mixed = {n: sorted(v) for n, v in labels.items() if len(v) > 1}
    if mixed:
        raise DataError(f"{manifest}: a class carries several labels: {mixed}")
    classes = sorted(labels)  # the release's class order
    absent = [c for c in suite_classes if c not in labels]
    if absent:
        raise DataError(f"{manifest}: no training clips for classes {absent} of suite {spec.name}")
    problem = spec.problems[0].name
    notices: list[str] = []
    clips: list[Clip] = []
    listed: set[Path] = set()
    for file, start, _label, name, line in rows:
        if not file.is_file():
            raise DataError(f"{manifest}:{line}: field 'filepath' names {file}, which does not exist")
        frames = _check_rate(file)
        if start >= frames:
            raise DataError(f"{manifest}:{line}: start_sample {start} is past the end of {file} ({frames} frames)")
        listed.add(file.resolve())
        rel = file.relative_to(base).as_posix() if file.is_relative_to(base) else str(file)
        clips.append(Clip(file, rel + (f"@{start}" if start else ""), name, problem, "train", start))
    train_dir = base / TRAIN_DIR
    for folder in sorted(p for p in train_dir.iterdir() if p.is_dir()):
        if folder.name not in labels:
            raise DataError(f"{folder}: class folder {folder.name!r} is not in {manifest} "
                            f"(classes there: {', '.join(classes)})")
        unlisted = [p for p in folder.glob("*.wav") if p.resolve() not in listed]
        if unlisted:
            notices.append(f"{folder}: {len(unlisted)} .wav file(s) not in {MANIFEST}, not used (the release "
                           f"trains on the manifest only)")
    test_dir = base / TEST_DIR
    if not test_dir.is_dir():
        raise DataError(f"{test_dir}: test folder missing (expected {TEST_DIR}/<class>/*.wav)")
    for folder in sorted(p for p in test_dir.iterdir() if p.is_dir()):
        if folder.name not in labels:
            raise DataError(f"{folder}: class folder {folder.name!r} is not in {manifest} "
                            f"(classes there: {', '.join(classes)})")
        files = sorted(folder.rglob("*.wav"))
        for file in files:
            _check_rate(file)
            clips.append(Clip(file, file.relative_to(base).as_posix(), folder.name, problem, "test"))
    loose = sorted(test_dir.glob("*.wav"))
    if loose:
        raise DataError(f"{loose[0]}: test clips must sit in a class folder ({TEST_DIR}/<class>/); "
                        f"{len(loose)} file(s) at the top level")
    missing_test = [c for c in classes if not any(c2.task == c and c2.release_split == "test" for c2 in clips)]
    if missing_test:
        notices.append(f"{test_dir}: no test clips for {missing_test}")
    if max_clips_per_class is not None:
        kept: list[Clip] = []
        for split in ("train", "test"):
            for name in classes:
                kept += [c for c in clips if c.release_split == split and c.task == name][:max_clips_per_class]
        clips = kept
    order = {name: i for i, name in enumerate(suite_classes)}
    clips.sort(key=lambda c: (order[c.task], c.release_split, c.relpath))
    return DatasetIndex(base, clips, notices, max_clips_per_class is not None)
