"""Readers of the anomaly suites' release layouts → one flat list of :class:`AsdClip`.

- DCASE Task 2 (2020–2026): ``<root>/{dev_data,eval_data}/[raw/]<machine>/…`` — the folders the
  official zips unpack to (dev, additional training = eval train, eval test), file names parsed by
  :mod:`dcase_layout`. 2025 machines may carry a ``supplemental/`` folder (clean machine / noise-only
  recordings, DCASE 2025 report §1); it is listed, never fitted on by default. 2026 files are near/far
  stereo (same names as 2025); the channel policy is the front end's (``extract``), not the reader's.
  A machine folder holding ``train/`` only (the additional training data before the eval test set is
  published — DCASE 2026 at the time of writing) is skipped with a notice, not an error.
- MIMII: ``<root>/<snr>/<machine>/id_XX/{normal,abnormal}/*.wav``; SNR folders as the zips are named
  (``-6_dB``) or as the official baseline extracts them (``min6dB``, ``0dB``, ``6dB``).
- DINOS anomaly tasks: ``DINOS_Downstreams_{train,test}/{Yornew_anomaly,ColdSpray_anomaly}/<class>/``;
  the normal classes are those of the authors' ``src/unified_config.py`` (hanprd/DINOS).

Labels of evaluation test clips are hidden in the file names; they are read from the official
ground truth only after every score is fixed (``anomaly.scoring``).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from impact_bench.anomaly.dcase_layout import scan_machine
from impact_bench.audio import AUDIO_EXTENSIONS
from impact_bench.errors import DataError

SNR_FOLDERS = {"-6dB": ("-6_dB", "min6dB", "-6dB", "m6dB", "-6db"),  # zips / mimii_baseline 7z.sh
               "0dB": ("0_dB", "0dB", "0db"),
               "6dB": ("6_dB", "6dB", "6db")}
DINOS_NORMAL = {  # authors' src/unified_config.py: the classes treated as normal
    "ColdSpray_anomaly": ("1-normal_stethoscope", "5-normal_mic"),
    "Yornew_anomaly": ("007-1.0_6.35_25.4_4000_chatter", "009-1.0_6.35_25.4_12000_chatter",
                       "011-3.0_6.35_76.2_12000_chatter", "012-3.0_6.35_76.2_8000_chatter"),
}


@dataclass(frozen=True)
class AsdClip:
    path: Path
    relpath: str
    set: str                  # "dev" | "eval" (DCASE), the SNR (MIMII), "release" (DINOS)
    machine: str
    unit: str                 # unit of detection: "section_00", "id_01" (2020, MIMII), a DINOS task
    split: str                # "train" (normal only) | "test"
    domain: str | None = None  # "source" | "target" | None (2020, MIMII, hidden in 2022+ eval test)
    label: str | None = None   # "normal" | "anomaly" | None (hidden: evaluation test)
    attributes: str | None = None
    key: str | None = None     # name in score files when the base name is not unique (MIMII, DINOS)

    @property
    def name(self) -> str:
        return self.key or self.path.name

    @property
    def task(self) -> str:  # the embedding extractor's label field
        return f"{self.set}/{self.machine}/{self.unit}/{self.split}"


@dataclass
class AsdIndex:
    root: Path
    clips: list[AsdClip]
    notices: list[str] = field(default_factory=list)
    supplemental: dict[str, int] = field(default_factory=dict)  # 2025: machine → files in supplemental/
    subset: bool = False


def _set_dir(root: Path, name: str) -> Path | None:
    for cand in (root / f"{name}_data" / "raw", root / f"{name}_data", root / name):
        if cand.is_dir() and any(p.is_dir() for p in cand.iterdir()):
            return cand
    return None


def looks_like(layout: str, root: Path) -> bool:
    """Cheap check that ``root`` holds a release of ``layout`` (for data-root discovery)."""
    root = Path(root)
    if not root.is_dir():
        return False
    if layout == "dcase":
        return any(_set_dir(root, s) for s in ("dev", "eval"))
    if layout == "mimii":
        return any((root / f).is_dir() for names in SNR_FOLDERS.values() for f in names)
    from impact_bench.suites.dinos import find_release_root  # noqa: PLC0415 (dinos imports nothing of ours above it)
    try:
        find_release_root(root)
        return True
    except DataError:
        return False


def scan_dcase(root: Path, year: int, sets: tuple[str, ...], machines: dict[str, tuple[str, ...]] | None = None,
               only: tuple[str, ...] = ()) -> AsdIndex:
    root = Path(root)
    index = AsdIndex(root, [])
    for set_name in sets:
        folder = _set_dir(root, set_name)
        if folder is None:
            index.notices.append(f"no {set_name}_data/ under {root}: the {set_name} set is not scored")
            continue
        dirs = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
        if only:
            dirs = [d for d in dirs if d.name in only]
            index.subset = True
        expected = set((machines or {}).get(set_name, ()))
        missing = sorted(expected - {d.name for d in dirs})
        if missing and not only:
            index.notices.append(f"{set_name}: machine types {missing} not found under {folder}; scores cover the rest")
            index.subset = True
        for d in dirs:
            if (d / "train").is_dir() and not any((d / t).is_dir() for t in ("test", "source_test", "target_test")):
                index.notices.append(f"{set_name}/{d.name}: training clips only (no test/ folder: the test "
                                     f"clips are not published or not unpacked yet); not scored")
                index.subset = True
                continue
            full = _correspondence(root, set_name, d)
            hidden = 0
            for c in scan_machine(year, d):
                attrs = c.attributes
                if attrs == "noAttribute":
                    hit = _ATTR_TAIL.search(full.get(c.path.name, ""))
                    attrs = hit[1] if hit else attrs
                    hidden += hit is None
                index.clips.append(AsdClip(c.path, c.path.relative_to(root).as_posix(), set_name, c.machine,
                                           c.unit, c.split, c.domain, c.label, attrs))
            if hidden:
                index.notices.append(f"{set_name}/{d.name}: {hidden} clips named noAttribute and no "
                                     f"attributes_00_*_correspondence.csv found (attributes stay hidden)")
            supp = d / "supplemental"
            if supp.is_dir():
                index.supplemental[f"{set_name}/{d.name}"] = len(list(supp.glob("*.wav")))
    if not index.clips:
        raise DataError(f"{root}: no DCASE {year} data (expected {root}/dev_data/<machine>/train/*.wav and/or "
                        f"{root}/eval_data/<machine>/…, as the official zips unpack)")
    return index


_ATTR_TAIL = re.compile(r"_\d{4}_(.+)\.wav$")


def _correspondence(root: Path, set_name: str, machine_dir: Path) -> dict[str, str]:
    """noAttribute name → full name, from the 2024 correspondence files beside the machine's data or
    in the evaluator repo's ``ground_truth_attributes_all/<set>_data/<machine>/`` copied under ``root``."""
    out: dict[str, str] = {}
    for folder in (machine_dir, root / "ground_truth_attributes_all" / f"{set_name}_data" / machine_dir.name):
        for path in sorted(folder.glob("attributes_*_correspondence.csv")):
            out.update(read_correspondence(path))
    return out


def snr_folder(root: Path, snr: str) -> Path | None:
    for name in SNR_FOLDERS.get(snr, (snr,)):
        if (Path(root) / name).is_dir():
            return Path(root) / name
    return None


def scan_mimii(root: Path, snrs: tuple[str, ...], only: tuple[str, ...] = (), split_normals: bool = True) -> AsdIndex:
    """Official protocol (mimii_baseline ``dataset_generator``): per (SNR, type, ID), sorted normals;
    test = the first len(abnormal) normals + every abnormal; train = the remaining normals. That split
    needs more normals than abnormals; ``split_normals=False`` (the supervised protocol, which re-splits
    every clip itself) only needs both classes."""
    root = Path(root)
    index = AsdIndex(root, [])
    for snr in snrs:
        folder = snr_folder(root, snr)
        if folder is None:
            index.notices.append(f"no {snr} folder under {root} (looked for {', '.join(SNR_FOLDERS.get(snr, (snr,)))})")
            continue
        for mdir in sorted(d for d in folder.iterdir() if d.is_dir()):
            if only and mdir.name not in only:
                index.subset = True
                continue
            ids = sorted(d for d in mdir.iterdir() if d.is_dir() and re.fullmatch(r"id_\d{2}", d.name))
            if not ids:
                raise DataError(f"{mdir}: no id_XX/ folders (expected {mdir}/id_00/normal/*.wav)")
            for idir in ids:
                normal = sorted((idir / "normal").glob("*.wav"))
                abnormal = sorted((idir / "abnormal").glob("*.wav"))
                if not abnormal or not normal or (split_normals and len(normal) <= len(abnormal)):
                    need = "more normal/*.wav than abnormal ones" if split_normals else "normal/*.wav"
                    raise DataError(f"{idir}: needs abnormal/*.wav and {need} "
                                    f"(found {len(normal)} normal, {len(abnormal)} abnormal)")
                n = len(abnormal)
                for k, p in enumerate(normal):
                    split = "test" if k < n else "train"
                    index.clips.append(AsdClip(p, p.relative_to(root).as_posix(), snr, mdir.name, idir.name,
                                               split, None, "normal", key=f"normal/{p.name}"))
                index.clips += [AsdClip(p, p.relative_to(root).as_posix(), snr, mdir.name, idir.name, "test",
                                        None, "anomaly", key=f"abnormal/{p.name}") for p in abnormal]
    if not index.clips:
        raise DataError(f"{root}: no MIMII data (expected {root}/<snr>/<machine>/id_XX/{{normal,abnormal}}/*.wav "
                        f"with <snr> one of -6_dB, 0_dB, 6_dB)")
    return index


def scan_dinos_anomaly(root: Path, tasks: tuple[str, ...] = tuple(DINOS_NORMAL)) -> AsdIndex:
    """Train = the normal classes of ``DINOS_Downstreams_train/<task>/``; test = every class of
    ``DINOS_Downstreams_test/<task>/`` (normal classes → normal, all others → anomaly)."""
    from impact_bench.suites.dinos import find_release_root
    base = find_release_root(Path(root))
    index = AsdIndex(Path(root), [])
    for task in tasks:
        normal = DINOS_NORMAL[task]
        for split, folder in (("train", "DINOS_Downstreams_train"), ("test", "DINOS_Downstreams_test")):
            tdir = base / folder / task
            if not tdir.is_dir():
                raise DataError(f"{tdir}: missing (the DINOS release's {task} anomaly task)")
            for cdir in sorted(d for d in tdir.iterdir() if d.is_dir()):
                label = "normal" if cdir.name in normal else "anomaly"
                if split == "train" and label == "anomaly":
                    continue  # fit on normal classes only
                for p in sorted(q for q in cdir.rglob("*") if q.suffix.lower() in AUDIO_EXTENSIONS):
                    index.clips.append(AsdClip(p, p.relative_to(base).as_posix(), "release", task.split("_")[0],
                                               task, split, None, label, cdir.name,
                                               key=p.relative_to(cdir.parent).as_posix()))
        found = {c.attributes for c in index.clips if c.unit == task}
        if not set(normal) & found:
            raise DataError(f"{base}/DINOS_Downstreams_train/{task}: none of the normal class folders "
                            f"{list(normal)} found")
    return index


def read_attributes(path: Path) -> dict[str, dict[str, str]]:
    """``attributes_XX.csv`` (2022+: ``file_name,d1p,d1v[,d2p,d2v…]``) → {file name: {d1p value: d1v value}}."""
    out: dict[str, dict[str, str]] = {}
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header or header[0] != "file_name":
            raise DataError(f"{path}: expected a header starting with 'file_name', got {header}")
        for n, row in enumerate(reader, 2):
            if not row:
                continue
            pairs = row[1:]
            if len(pairs) % 2:
                raise DataError(f"{path}, line {n}: expected file_name then (parameter, value) pairs")
            out[Path(row[0]).name] = {pairs[i]: pairs[i + 1] for i in range(0, len(pairs), 2) if pairs[i]}
    return out


def read_correspondence(path: Path) -> dict[str, str]:
    """2024 ``attributes_00_{train,test}_correspondence.csv`` (``source_file_name,target_file_name``:
    full-attribute name, ``noAttribute`` name) → {noAttribute name: full name}."""
    out: dict[str, str] = {}
    with open(path, newline="") as fh:
        rows = csv.DictReader(fh)
        if rows.fieldnames is None or not {"source_file_name", "target_file_name"} <= set(rows.fieldnames):
            raise DataError(f"{path}: expected columns source_file_name,target_file_name, got {rows.fieldnames}")
        for row in rows:
            out[Path(row["target_file_name"]).name] = Path(row["source_file_name"]).name
    return out
