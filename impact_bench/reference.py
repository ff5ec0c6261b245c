"""Published reference numbers shipped with the package (``leaderboards/published/*.csv``)."""
from __future__ import annotations

import csv
from importlib import resources

from impact_bench.suites.spec import SuiteSpec

PUBLISHED_ORDER = ("OpenSMILE", "CLAP", "VGGish", "OPERA-CT", "OPERA-GT", "AudioMAE-PreT", "AudioMAE-FineT", "IMPACT")


def _read(name: str) -> list[dict[str, str]]:
    text = (resources.files("impact_bench.published") / name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def published(spec: SuiteSpec) -> tuple[dict[str, dict[str, tuple[float, float]]], dict[str, dict[str, tuple[float, float]]]]:
    """(per-problem, per-task) → {model: {row: (mean, std)}}; empty when the suite has none."""
    out: list[dict[str, dict[str, tuple[float, float]]]] = []
    for name, key in ((spec.reference.per_problem, "machine"), (spec.reference.per_task, "task")):
        table: dict[str, dict[str, tuple[float, float]]] = {}
        if name:
            for row in _read(name):
                table.setdefault(row["model"], {})[row[key]] = (float(row["f1_mean"]), float(row["f1_std"]))
        out.append(table)
    return out[0], out[1]
