"""Per-clip anomaly data in the results file, and DeLong intervals of the AUCs computed from it.

``sets.<set>.clips.<machine>.<unit>`` holds, per unit of detection (the evaluator's grouping: a 2020 /
MIMII machine ID, a 2021 ``section_XX_<source|target>``, a 2022+ section; the same keys as ``roc``),
four parallel lists in the submission file's row order:

- ``names``: the file names as written in the submission CSV;
- ``labels``: 0 normal / 1 anomaly (from the ground truth, read only after the scores were written);
- ``domains``: 0 source / 1 target, or null where the year has no domains;
- ``scores``: the anomaly score written for that clip (the same float as the CSV row);
- ``decisions`` (2021+, where the year writes decision files): the 0/1 decision written for that clip.

Only scored sets carry it. ``delong_ci`` (added beside the official figures, which stay untouched):
per unit, ``{auc field: [low, high]}``, the DeLong 95 % interval of that AUC (DeLong et al. 1988, as
pROC's ``ci.auc(method="delong")``); per machine type, the interval of the mean over its units
(units hold disjoint clips, so the variances add: var(mean) = Σ var_u / U²). An AUC whose clips have
fewer than two normals or two anomalies gets null.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import scipy.stats

from impact_bench.anomaly.evaluator import TruthUnit
from impact_bench.anomaly.submission import Unit
from impact_bench.stats._common import StatsInputError
from impact_bench.stats.auc import delong_auc_variance

Mask = Callable[[np.ndarray, np.ndarray], np.ndarray]


def unit_key(unit: Unit) -> str:
    """The unit's key under ``machines.<m>.sections`` / ``roc.<m>`` / ``clips.<m>``."""
    return unit.section + (f"_{unit.domain}" if unit.domain else "")


def record_clips(truths: list[TruthUnit], units: dict[Unit, tuple[list[str], np.ndarray, Any]]) -> dict[str, Any]:
    """machine → unit key → {names, labels, domains, scores}; labels looked up as the evaluator does
    (a full-attribute name through the ground truth's aliases)."""
    out: dict[str, dict[str, Any]] = {}
    for t in truths:
        if t.unit not in units:
            continue
        names, scores, decisions = units[t.unit]
        keys = [t.aliases.get(n, n) for n in names]
        if t.unit.domain is not None:  # 2021: one domain per unit
            domains: list[int | None] = [int(t.unit.domain == "target")] * len(names)
        else:
            domains = [int(t.domains[k]) if k in t.domains else None for k in keys]
        rec: dict[str, Any] = {
            "names": list(names), "labels": [int(t.labels[k]) for k in keys], "domains": domains,
            "scores": [float(s) for s in np.asarray(scores, dtype=np.float64)]}
        if decisions is not None:
            rec["decisions"] = [int(x) for x in np.asarray(decisions)]
        out.setdefault(t.unit.machine, {})[unit_key(t.unit)] = rec
    return out


def arrays(c: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, domain codes with -1 for none, scores) of one unit's record."""
    dom = np.array([-1 if d is None else int(d) for d in c["domains"]], dtype=np.int64)
    return np.asarray(c["labels"], dtype=np.int64), dom, np.asarray(c["scores"], dtype=np.float64)


def auc_fields(layout: str, year: int | None) -> dict[str, Mask]:
    """The AUCs the year's evaluator reports per unit, as masks over the unit's clips."""
    if layout == "dcase" and year is not None and year >= 2022:  # this domain's normals + every anomaly
        return {"auc_source": lambda y, d: (d == 0) | (y == 1), "auc_target": lambda y, d: (d == 1) | (y == 1),
                "auc_all": lambda y, d: np.ones(y.shape, dtype=bool)}
    return {"auc": lambda y, d: np.ones(y.shape, dtype=bool)}


def _interval(value: float, var: float, alpha: float) -> list[float]:
    half = float(scipy.stats.norm.ppf(1 - alpha / 2)) * float(np.sqrt(max(var, 0.0)))
    return [float(max(0.0, value - half)), float(min(1.0, value + half))]


def section_row(machine_entry: dict[str, Any], key: str) -> dict[str, Any]:
    """The evaluator's row of one unit (2021 nests ``sections.<section>.<domain>``)."""
    sections = machine_entry["sections"]
    if key in sections:
        return sections[key]
    section, domain = key.rsplit("_", 1)
    return sections[section][domain]


def add_delong_cis(res: dict[str, Any], clips: dict[str, Any], layout: str, year: int | None,
                   alpha: float = 0.05) -> None:
    """Write ``delong_ci`` into every unit row and machine entry of ``res`` (the set's metrics)."""
    fields = auc_fields(layout, year)
    for machine, units in clips.items():
        entry = res["machines"][machine]
        parts: dict[str, list[tuple[float, float] | None]] = {f: [] for f in fields}
        for key, c in units.items():
            y, d, s = arrays(c)
            cis: dict[str, list[float] | None] = {}
            for f, sel in fields.items():
                mask = sel(y, d)
                try:
                    auc, var = delong_auc_variance(y[mask], s[mask])
                except StatsInputError:
                    cis[f], var = None, None
                else:
                    cis[f] = _interval(auc, var, alpha)
                parts[f].append(None if var is None else (auc, var))
            section_row(entry, key)["delong_ci"] = cis
        mean_ci: dict[str, list[float] | None] = {}
        for f, got in parts.items():
            if not got or any(g is None for g in got):
                mean_ci[f] = None
                continue
            n = len(got)
            mean_ci[f] = _interval(float(np.mean([g[0] for g in got])), sum(g[1] for g in got) / n ** 2, alpha)
        entry["delong_ci"] = mean_ci
