"""DCASE Task 2 submission files: per-year names, headerless ``filename,value`` rows.

| year | anomaly scores | decisions |
|---|---|---|
| 2020 | ``anomaly_score_<machine>_id_<XX>.csv`` | none |
| 2021 | ``anomaly_score_<m>_section_<XX>_<source|target>_test.csv`` | ``decision_result_<same>.csv`` |
| 2022+ | ``anomaly_score_<m>_section_<XX>_test.csv`` | ``decision_result_<same>.csv`` |

(the official evaluators' READMEs and code; the 2022 README omits ``_test`` but its code requires it.) A folder is
written into a hidden temporary sibling and renamed when every file is in place, so a folder with
the final name is always complete.
"""
from __future__ import annotations

import csv
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from impact_bench.errors import DataError, ResultsError

if TYPE_CHECKING:  # annotations only; YEARS/check_year are imported by the CLI's argument parser
    import numpy as np

YEARS = (2020, 2021, 2022, 2023, 2024, 2025, 2026)


@dataclass(frozen=True)
class Unit:
    """One unit of detection: a machine ID (2020), a (section, domain) (2021), or a section (2022+)."""

    machine: str
    section: str            # "id_01" (2020) or "section_03"
    domain: str | None = None  # 2021 only: "source" | "target"

    def stem(self, year: int) -> str:
        check_year(year)
        tail = "" if year == 2020 else ("_test" if year >= 2022 else f"_{self.domain}_test")
        return f"{self.machine}_{self.section}{tail}"


def check_year(year: int) -> int:
    if year not in YEARS:
        raise DataError(f"DCASE year must be one of {', '.join(map(str, YEARS))}, got {year}")
    return year


def score_path(folder: Path, year: int, unit: Unit) -> Path:
    return Path(folder) / f"anomaly_score_{unit.stem(year)}.csv"


def decision_path(folder: Path, year: int, unit: Unit) -> Path | None:
    return None if year == 2020 else Path(folder) / f"decision_result_{unit.stem(year)}.csv"


def read_rows(path: Path, decision: bool = False) -> dict[str, float]:
    """``filename,value`` rows → {filename: value}; a header-less two-column CSV, values numeric
    (decisions 0/1), names unique."""
    if not Path(path).is_file():
        raise DataError(f"{path}: file not found")
    out: dict[str, float] = {}
    with open(path, newline="") as fh:
        for n, row in enumerate(csv.reader(fh), 1):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) < 2:
                raise DataError(f"{path}, line {n}: expected 'filename,value', got {','.join(row)!r}")
            name, raw = row[0].strip(), row[1].strip()
            try:
                value = float(raw)
            except ValueError:
                raise DataError(f"{path}, line {n}: value {raw!r} is not a number") from None
            if not math.isfinite(value):
                raise DataError(f"{path}, line {n}: value for {name} is {raw} (NaN/Inf scores cannot be ranked)")
            if decision and value not in (0.0, 1.0):
                raise DataError(f"{path}, line {n}: decisions must be 0 or 1, got {raw!r}")
            if name in out:
                raise DataError(f"{path}, line {n}: {name} appears twice")
            out[name] = value
    if not out:
        raise DataError(f"{path}: no rows")
    return out


def write_submission(folder: Path, year: int, units: dict[Unit, tuple[list[str], np.ndarray, np.ndarray | None]],
                     overwrite: bool = False) -> Path:
    """Write every unit's ``(file names, scores, decisions)`` atomically as one folder."""
    import numpy as np

    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise ResultsError(f"{folder} exists; pass --overwrite to replace it")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".partial"))
    try:
        for unit, (names, scores, decisions) in units.items():
            if not np.isfinite(scores).all():
                raise ResultsError(f"{unit.stem(year)}: NaN/Inf anomaly scores; nothing written")
            _write(score_path(tmp, year, unit), names, [repr(float(s)) for s in scores])
            dpath = decision_path(tmp, year, unit)
            if dpath is not None and decisions is not None:
                _write(dpath, names, [str(int(d)) for d in decisions])
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _write(path: Path, names: list[str], values: list[str]) -> None:
    with open(path, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(zip(names, values))
