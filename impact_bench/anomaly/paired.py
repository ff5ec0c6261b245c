"""Paired comparison A − B of two unsupervised anomaly runs on the same clips, from the results files'
per-clip data (``sets.<set>.clips``, see :mod:`impact_bench.anomaly.perclip`). Pairing checks (same
data, same clips and labels per unit) live in :func:`impact_bench.compare.check_comparable`.

Rows of one set's table: every unit of detection (only for machine types with more than one unit: with
one, the machine row is the same comparison), every machine type (the mean over its units, as the
evaluator's per-type figures), and ``all`` (the mean over machine types; the official score).

- AUCs the evaluator reports (2022+: AUC-source, AUC-target; else AUC): paired DeLong test (DeLong et al.
  1988) per unit; a mean over units (disjoint clips, independent) has Σ w_u d_u as difference and
  Σ w_u² var_u as variance, z-test and normal 95 % interval.
- pAUC (max_fpr 0.1, the evaluators' McClish-standardised ``roc_auc_score(max_fpr=0.1)``; mean over units
  for machines and sets) and, DCASE 2021+, the official-style score (harmonic mean of the unit rows' AUCs and
  pAUCs, each floored at eps: per type as the published per-type tables, over the set as the official
  score): paired bootstrap over clips, stratified by (label, unit, domain), percentile 95 % interval,
  ``n_boot`` resamples from ``seed`` (both recorded; same seed → same numbers).
- Holm's adjustment, per metric, over the rows of the set's table other than ``all``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats

from impact_bench.anomaly.perclip import Mask, arrays, auc_fields
from impact_bench.stats._common import StatsInputError
from impact_bench.stats.auc import (Statistic, delong_paired, harmonic_mean, on_subset, paired_bootstrap, partial_auc,
                                    weighted_auc)
from impact_bench.stats.multiple import adjust

N_BOOT = 2_000
MAX_FPR = 0.1  # evaluators: MAX_FPR = 0.1
HEADS = {"auc": "AUC", "auc_source": "AUC-s", "auc_target": "AUC-t", "pauc": "pAUC", "score": "score (hmean)"}


def tested_aucs(layout: str, year: int | None) -> dict[str, Mask]:
    """The AUCs of the evaluator's rows (2022+: AUC-source and AUC-target; else the unit's AUC)."""
    fields = auc_fields(layout, year)
    fields.pop("auc_all", None)
    return fields


def aligned_units(a_set: dict[str, Any], b_set: dict[str, Any]) -> list[tuple[str, str, np.ndarray, np.ndarray,
                                                                               np.ndarray, np.ndarray]]:
    """(machine, unit, labels, domains, scores A, scores B) in A's order, B's scores matched by name."""
    out = []
    for machine, units in a_set["clips"].items():
        for key, ca in units.items():
            cb = b_set["clips"][machine][key]
            y, d, sa = arrays(ca)
            where = {n: i for i, n in enumerate(cb["names"])}
            sb = np.asarray(cb["scores"], dtype=np.float64)[[where[n] for n in ca["names"]]]
            out.append((machine, key, y, d, sa, sb))
    return out


def _delong_row(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], weights: list[float],
                mask: Mask, alpha: float) -> dict[str, Any] | None:
    a = b = var = 0.0
    for (y, d, sa, sb), w in zip(parts, weights):
        sel = mask(y, d)
        try:
            r = delong_paired(y[sel], sa[sel], sb[sel], alpha)
        except StatsInputError:
            return None
        a, b, var = a + w * r.auc_a, b + w * r.auc_b, var + w * w * r.variance
    diff = a - b
    z = diff / np.sqrt(var) if var > 0 else (0.0 if abs(diff) < 1e-15 else float(np.copysign(np.inf, diff)))
    half = float(scipy.stats.norm.ppf(1 - alpha / 2)) * float(np.sqrt(var))
    return {"test": "delong", "a": a, "b": b, "diff": diff, "ci": [diff - half, diff + half], "z": float(z),
            "p": float(2 * scipy.stats.norm.sf(abs(z)))}


def _bootstrap(y: np.ndarray, strata: np.ndarray, sa: np.ndarray, sb: np.ndarray, stat: Statistic, n_boot: int,
               seed: int, alpha: float) -> dict[str, Any]:
    r = paired_bootstrap(y, strata, sa, sb, stat, n_boot, seed, alpha)
    return {"test": "bootstrap", "a": r.stat_a, "b": r.stat_b, "diff": r.observed, "ci": [r.ci_low, r.ci_high],
            "p": r.p_value, "n_boot": n_boot, "seed": seed}


def _weighted(stats: list[Statistic], weights: list[float]) -> Statistic:
    return lambda y, s, c: sum(w * f(y, s, c) for f, w in zip(stats, weights))


def _row(units: list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]], weights: list[float],
         level: str, aucs: dict[str, Mask], hmean_score: bool, n_boot: int, seed: int, alpha: float) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for f, mask in aucs.items():
        got = _delong_row([u[2:] for u in units], weights, mask, alpha)
        if got is not None:
            metrics[f] = got
    y = np.concatenate([u[2] for u in units])
    d = np.concatenate([u[3] for u in units])
    sa, sb = np.concatenate([u[4] for u in units]), np.concatenate([u[5] for u in units])
    which = np.concatenate([np.full(u[2].size, k) for k, u in enumerate(units)])
    strata = np.stack([which, d], axis=1)  # the label is added by paired_bootstrap
    in_unit = [which == k for k in range(len(units))]
    pauc = [on_subset(partial_auc(MAX_FPR), m) for m in in_unit]
    metrics["pauc"] = _bootstrap(y, strata, sa, sb, _weighted(pauc, weights), n_boot, seed, alpha)
    if hmean_score:
        parts = [on_subset(weighted_auc, m & mask(y, d)) for m in in_unit for mask in aucs.values()]
        metrics["score"] = _bootstrap(y, strata, sa, sb, harmonic_mean(*parts, *pauc), n_boot, seed, alpha)
        metrics["score"]["rule"] = "harmonic mean of " + ", ".join(HEADS[f] for f in aucs) + " and pAUC of every unit"
    return {"level": level, "units": [f"{u[0]}/{u[1]}" for u in units], "n_clips": int(y.size), "metrics": metrics}


def compare_anomaly(a: dict[str, Any], b: dict[str, Any], n_boot: int = N_BOOT, seed: int = 0,
                    alpha: float = 0.05) -> dict[str, Any]:
    """The paired report of A − B for every set both runs scored (runs already checked as comparable)."""
    layout, year = a["suite"]["layout"], a["suite"].get("year")
    aucs = tested_aucs(layout, year)
    hmean_score = layout == "dcase" and year is not None and year >= 2021
    sets: dict[str, Any] = {}
    for set_name, entry in a["sets"].items():
        if not entry.get("scored"):
            continue
        units = aligned_units(entry, b["sets"][set_name])
        by_machine: dict[str, list[int]] = {}
        for k, u in enumerate(units):
            by_machine.setdefault(u[0], []).append(k)
        rows: dict[str, Any] = {}
        for machine, idx in by_machine.items():
            if len(idx) > 1:
                for k in idx:
                    rows[f"{machine}/{units[k][1]}"] = _row([units[k]], [1.0], "unit", aucs, hmean_score, n_boot,
                                                             seed, alpha)
            rows[machine] = _row([units[k] for k in idx], [1 / len(idx)] * len(idx), "machine", aucs, hmean_score,
                                 n_boot, seed, alpha)
        order = [k for idx in by_machine.values() for k in idx]
        weights = [1 / (len(by_machine) * len(idx)) for idx in by_machine.values() for _ in idx]
        family = list(rows)
        rows["all"] = _row([units[k] for k in order], weights, "set", aucs, hmean_score, n_boot, seed, alpha)
        for metric in dict.fromkeys(mk for r in rows.values() for mk in r["metrics"]):
            names = [n for n in family if metric in rows[n]["metrics"]]
            if names:
                holm = adjust(np.array([rows[n]["metrics"][metric]["p"] for n in names]), "holm")
                for n, ph in zip(names, holm):
                    rows[n]["metrics"][metric]["p_holm"] = float(ph)
        sets[set_name] = {"rows": rows}
    return {"kind": "anomaly", "a": a["encoder"].get("label") or a["encoder"]["name"],
            "b": b["encoder"].get("label") or b["encoder"]["name"], "suite": a["suite"]["name"], "alpha": alpha,
            "n_boot": n_boot, "seed": seed, "max_fpr": MAX_FPR,
            "tests": {f: "paired DeLong" for f in aucs} | {"pauc": "paired bootstrap (label, unit, domain strata)"}
            | ({"score": "paired bootstrap (label, unit, domain strata)"} if hmean_score else {}),
            "note": "Holm: per metric over the rows of a set's table other than 'all'", "sets": sets}
