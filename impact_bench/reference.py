"""Published reference numbers shipped with the package (``leaderboards/published/*.csv``)."""
from __future__ import annotations

import csv
import math
from functools import lru_cache
from importlib import resources

from impact_bench.suites.spec import SuiteSpec

PUBLISHED_ORDER = ("OpenSMILE", "CLAP", "VGGish", "OPERA-CT", "OPERA-GT", "AudioMAE-PreT", "AudioMAE-FineT", "IMPACT")
Table = dict[str, dict[str, tuple[float, float]]]  # model → row → (mean, std; NaN when not published)


@lru_cache(maxsize=16)
def read_rows(name: str) -> tuple[dict[str, str], ...]:
    """Rows of ``leaderboards/published/<name>`` (shipped as ``impact_bench.published``): the one reader
    of every published-number file, classification and anomaly alike."""
    text = (resources.files("impact_bench.published") / name).read_text(encoding="utf-8")
    return tuple(csv.DictReader(text.splitlines()))


def _table(name: str | None, key: str) -> Table:
    table: Table = {}
    for row in read_rows(name) if name else []:
        std = float(row["f1_std"]) if row.get("f1_std") else math.nan
        table.setdefault(row["model"], {})[row[key]] = (float(row["f1_mean"]), std)
    return _ordered(table)


def _ordered(table: Table) -> Table:
    """The DINOS paper's models first, in its order; any others after them, in file order."""
    first = [m for m in PUBLISHED_ORDER if m in table]
    return {m: table[m] for m in first + [m for m in table if m not in first]}


def published(spec: SuiteSpec) -> tuple[Table, Table]:
    """(per-problem, per-task) → {model: {row: (mean, std)}}; empty when the suite has none."""
    return _table(spec.reference.per_problem, "machine"), _table(spec.reference.per_task, "task")


def published_also(spec: SuiteSpec) -> Table:
    """Per-problem rows from other publications on the same tasks (e.g. the LISTEN paper on DINOS)."""
    out: Table = {}
    for name in spec.reference.also_per_problem:
        out.update(_table(name, "machine"))
    return out


def sources(spec: SuiteSpec) -> dict[str, str]:
    """model → its source line, for every published row of the suite that names one."""
    out: dict[str, str] = {}
    names = [spec.reference.per_problem, spec.reference.per_task, *spec.reference.also_per_problem]
    for name in filter(None, names):
        for row in read_rows(name):
            if row.get("source"):
                out.setdefault(row["model"], row["source"])
    return out
