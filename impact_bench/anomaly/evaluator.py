"""``evaluate-dcase``: score a submission folder against the official ground truth, as the official
evaluators do (same numbers), with errors instead of silent misalignment.

Ground truth is read from the official evaluator repositories' folders as published:
- 2020: ``eval_data_list.csv`` (a machine-type line, then ``anonymised,original,label`` rows);
- 2021: ``ground_truth_data/ground_truth_<m>_section_<XX>_<source|target>_test.csv``;
- 2022–2025: ``ground_truth_data/`` (label) + ``ground_truth_domain/`` (0 source, 1 target), and
  ``ground_truth_attributes/`` (2023+: maps full-attribute names in a submission back to the
  anonymised ones; 2022: ``<m>/attributes_XX.csv``, used by ``toy2022="attributes"``).

The evaluators sort a submission's rows by file name and pair them with the ground truth in its
order; we pair rows by name, which gives the same numbers whenever the names match, and an error
naming the files when they do not (the evaluators would silently misalign them).

2022 eval ToyCar/ToyTrain: the evaluator's ``ground_truth_data``/``_domain`` (used for the official
2022 ranking, ``toy2022="evaluator"``, default) disagree on ~half the files with the evaluator's later
``ground_truth_attributes`` and the baseline's ``eval_data_list_2022.csv`` (``toy2022="attributes"``).
Which is right is unknown (Kota-Dohi/dcase2022_evaluator vs nttcslab/dcase2023_task2_baseline_ae
``datasets/eval_data_list_2022.csv``): the wrong one gives AUC ≈ 0.5 for a reasonable detector.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from impact_bench.anomaly import metrics as m
from impact_bench.anomaly.submission import Unit, check_year, decision_path, read_rows, score_path
from impact_bench.errors import DataError

TOY_2022 = ("ToyCar", "ToyTrain")
_GT_2021 = re.compile(r"^ground_truth_(?P<m>.+)_(?P<s>section_\d{2})_(?P<d>source|target)_test\.csv$")
_GT_2022 = re.compile(r"^ground_truth_(?P<m>.+)_(?P<s>section_\d{2})_test\.csv$")
_FULL_2022 = re.compile(r"section_\d{2}_(?P<d>source|target)_test_(?P<l>normal|anomaly)_")


@dataclass
class TruthUnit:
    unit: Unit
    labels: dict[str, int]                                 # anonymised name → 0 normal / 1 anomaly
    domains: dict[str, int] = field(default_factory=dict)  # 2022+: name → 0 source / 1 target
    aliases: dict[str, str] = field(default_factory=dict)  # 2023+: full-attribute name → anonymised name


def read_ground_truth(year: int, root: Path, toy2022: str = "evaluator") -> list[TruthUnit]:
    check_year(year)
    root = Path(root)
    if toy2022 not in ("evaluator", "attributes"):
        raise DataError(f"toy2022 must be 'evaluator' or 'attributes', got {toy2022!r}")
    if year == 2020:
        return _truth_2020(root)
    data = root / "ground_truth_data"
    if not data.is_dir():
        raise DataError(f"{root}: no ground_truth_data/ folder (expected the official {year} evaluator's layout)")
    pattern = _GT_2021 if year == 2021 else _GT_2022
    units = []
    for path in sorted(data.glob("ground_truth_*.csv")):
        hit = pattern.match(path.name)
        if hit is None:
            raise DataError(f"{path}: name does not match the {year} pattern {pattern.pattern}")
        unit = Unit(hit["m"], hit["s"], hit.groupdict().get("d"))
        truth = TruthUnit(unit, {k: int(v) for k, v in read_rows(path).items()})
        if year >= 2022:
            truth.domains = {k: int(v) for k, v in read_rows(root / "ground_truth_domain" / path.name).items()}
            if set(truth.domains) != set(truth.labels):
                raise DataError(f"{root / 'ground_truth_domain' / path.name}: file names differ from {path}")
            if year == 2022 and toy2022 == "attributes" and unit.machine in TOY_2022:
                _relabel_2022(truth, root)
            attrs = root / "ground_truth_attributes" / path.name
            if year >= 2023 and attrs.is_file():
                truth.aliases = _aliases(attrs)
        units.append(truth)
    if not units:
        raise DataError(f"{data}: no ground_truth_*.csv files")
    return units


def _truth_2020(root: Path) -> list[TruthUnit]:
    path = root / "eval_data_list.csv" if root.is_dir() else root
    if not path.is_file():
        raise DataError(f"{root}: no eval_data_list.csv (the 2020 ground truth, Zenodo 3951620)")
    by_unit: dict[Unit, dict[str, int]] = {}
    machine = None
    with open(path, newline="") as fh:
        for n, row in enumerate(csv.reader(fh), 1):
            if len(row) == 1 and row[0].strip():
                machine = row[0].strip()
            elif len(row) >= 3:
                hit = re.match(r"^(id_\d{2})_", row[0])
                if machine is None or hit is None:
                    raise DataError(f"{path}, line {n}: expected a machine-type line, then 'id_XX_…wav,original,label'")
                by_unit.setdefault(Unit(machine, hit[1]), {})[row[0]] = int(float(row[2]))
    return [TruthUnit(u, labels) for u, labels in sorted(by_unit.items(), key=lambda kv: (kv[0].machine, kv[0].section))]


def _aliases(path: Path) -> dict[str, str]:
    """Rows ``anonymised, full name[, full name]`` (no .wav on the full names) → {full.wav: anonymised}."""
    out = {}
    with open(path, newline="") as fh:
        for row in csv.reader(fh):
            if len(row) >= 2 and row[0].endswith(".wav"):
                for full in row[1:]:
                    out[f"{Path(full).stem}.wav"] = row[0]
    return out


def _relabel_2022(truth: TruthUnit, root: Path) -> None:
    number = truth.unit.section.split("_")[1]
    path = root / "ground_truth_attributes" / truth.unit.machine / f"attributes_{number}.csv"
    if not path.is_file():
        raise DataError(f"{path}: needed for toy2022='attributes' (the evaluator repo's later attribute files)")
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            name = Path(row["file_name"]).name
            hit = _FULL_2022.search(Path(row["file_name_with_attributes"]).name)
            if name not in truth.labels or hit is None:
                raise DataError(f"{path}: row {row['file_name']} matches no ground-truth file or has no domain/label")
            truth.labels[name] = int(hit["l"] == "anomaly")
            truth.domains[name] = int(hit["d"] == "target")


def _aligned(path: Path, rows: dict[str, float], truth: TruthUnit) -> np.ndarray:
    rows = {truth.aliases.get(k, k): v for k, v in rows.items()}
    missing = sorted(set(truth.labels) - set(rows))
    extra = sorted(set(rows) - set(truth.labels))
    if missing or extra:
        raise DataError(f"{path}: {len(rows)} rows vs {len(truth.labels)} ground-truth files; "
                        f"missing {missing[:3]}{'…' if len(missing) > 3 else ''}, "
                        f"unknown {extra[:3]}{'…' if len(extra) > 3 else ''}")
    return np.array([rows[k] for k in sorted(truth.labels)])


def evaluate(year: int, submission: Path, ground_truth: Path, toy2022: str = "evaluator") -> dict[str, Any]:
    """Every per-unit figure and the official score of one submission folder."""
    out = score_submission(year, read_ground_truth(year, ground_truth, toy2022), submission)
    out["ground_truth"] = str(ground_truth)
    if year == 2022:
        out["toy2022"] = toy2022
    return out


def score_submission(year: int, truths: list[TruthUnit], submission: Path) -> dict[str, Any]:
    """The evaluator proper: ground truth already read (from the official files, or from dev names)."""
    machines: dict[str, dict[str, Any]] = {}
    flat: list[dict[str, float]] = []
    for t in truths:
        names = sorted(t.labels)
        y = np.array([t.labels[k] for k in names])
        spath = score_path(submission, year, t.unit)
        scores = _aligned(spath, read_rows(spath), t)
        dpath = decision_path(submission, year, t.unit)
        decisions = None if dpath is None else _aligned(dpath, read_rows(dpath, decision=True), t).astype(int)
        if year >= 2022:
            dom = np.array([t.domains[k] for k in names])
            res = m.section_2022(y, dom, scores, decisions, spath.name)
        else:
            res = m.unit_scores(y, scores, decisions, spath.name)
        res["n_clips"] = len(names)
        flat.append(res)
        entry = machines.setdefault(t.unit.machine, {"sections": {}})
        if year == 2021:
            entry["sections"].setdefault(t.unit.section, {})[t.unit.domain] = res
        else:
            entry["sections"][t.unit.section] = res
    for entry in machines.values():
        entry["mean"] = _means(year, entry["sections"])
    out: dict[str, Any] = {"year": year, "machines": machines, "units": len(flat), "submission": str(submission)}
    if year == 2020:
        out["official_score"] = None  # the 2020 evaluator prints per-ID and per-type figures only
        out["mean_auc"] = float(np.mean([e["mean"]["auc"] for e in machines.values()]))
        out["mean_pauc"] = float(np.mean([e["mean"]["pauc"] for e in machines.values()]))
    else:
        out["official_score"] = m.official_2021(flat) if year == 2021 else m.official_2022(flat)
    return out


def _means(year: int, sections: dict[str, Any]) -> dict[str, float]:
    """Per machine type: arithmetic mean over its IDs / sections (2021: over sections and domains)."""
    rows = [d for s in sections.values() for d in s.values()] if year == 2021 else list(sections.values())
    keys = [k for k in rows[0] if k != "n_clips"]
    return {k: float(np.mean([r[k] for r in rows])) for k in keys}
