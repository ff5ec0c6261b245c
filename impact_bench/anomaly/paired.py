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
- F1 of the decisions (DCASE 2021+, where results hold ``decisions``; 2022+: ``f1_source`` / ``f1_target``
  over each domain's clips, 2021: ``f1`` per unit, as the evaluators): paired bootstrap as pAUC, the mean
  over units with the same weights.
- Holm's adjustment, per metric, over the rows of the set's table other than ``all``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats

from impact_bench.anomaly.perclip import Mask, arrays, auc_fields
from impact_bench.stats._common import StatsInputError, percentile_summary
from impact_bench.stats.auc import (Statistic, binary_f1, bootstrap_many, delong_paired, harmonic_mean, on_subset,
                                    paired_bootstrap, partial_auc, weighted_auc)
from impact_bench.stats.multiple import adjust

N_BOOT = 2_000
MAX_FPR = 0.1  # evaluators: MAX_FPR = 0.1
HEADS = {"auc": "AUC", "auc_source": "AUC-s", "auc_target": "AUC-t", "pauc": "pAUC", "score": "score (hmean)",
         "f1": "F1", "f1_source": "F1-s", "f1_target": "F1-t"}


def f1_fields(layout: str, year: int | None) -> dict[str, Mask]:
    """The F1s the year's evaluator reports per unit, as masks over the unit's clips (none before 2021)."""
    if layout != "dcase" or year is None or year < 2021:
        return {}
    if year >= 2022:  # each domain's normals and anomalies
        return {"f1_source": lambda y, d: d == 0, "f1_target": lambda y, d: d == 1}
    return {"f1": lambda y, d: np.ones(y.shape, dtype=bool)}


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
            y, d, sa = arrays(ca)
            out.append((machine, key, y, d, sa, in_order(b_set["clips"][machine][key], ca["names"], "scores")))
    return out


def in_order(unit: dict[str, Any], names: list[str], field: str) -> np.ndarray:
    """A unit record's ``field`` (scores, decisions) in the order of ``names`` (another run's row order)."""
    where = {n: i for i, n in enumerate(unit["names"])}
    return np.asarray(unit[field], dtype=np.float64 if field == "scores" else np.int64)[[where[n] for n in names]]


def aligned_decisions(a_set: dict[str, Any], b_set: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """(decisions A, decisions B) per unit in :func:`aligned_units` order; None when a run lacks them."""
    out = []
    for machine, units in a_set["clips"].items():
        for key, ca in units.items():
            cb = b_set["clips"][machine][key]
            if ca.get("decisions") is None or cb.get("decisions") is None:
                return None
            out.append((np.asarray(ca["decisions"], dtype=np.int64), in_order(cb, ca["names"], "decisions")))
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
         level: str, aucs: dict[str, Mask], hmean_score: bool, n_boot: int, seed: int, alpha: float,
         decisions: list[tuple[np.ndarray, np.ndarray]] | None = None, f1s: dict[str, Mask] | None = None
         ) -> dict[str, Any]:
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
    if decisions is not None:
        da, db = np.concatenate([x[0] for x in decisions]), np.concatenate([x[1] for x in decisions])
        for f, mask in (f1s or {}).items():
            sel = mask(y, d)
            if not all((sel & m).any() for m in in_unit):
                continue  # a unit without clips of that domain: the evaluator's F1 is undefined there
            f1 = [on_subset(binary_f1, m & sel) for m in in_unit]
            metrics[f] = _bootstrap(y, strata, da, db, _weighted(f1, weights), n_boot, seed, alpha)
    return {"level": level, "units": [f"{u[0]}/{u[1]}" for u in units], "n_clips": int(y.size), "metrics": metrics}


def compare_anomaly(a: dict[str, Any], b: dict[str, Any], n_boot: int = N_BOOT, seed: int = 0,
                    alpha: float = 0.05) -> dict[str, Any]:
    """The paired report of A − B for every set both runs scored (runs already checked as comparable)."""
    layout, year = a["suite"]["layout"], a["suite"].get("year")
    aucs = tested_aucs(layout, year)
    hmean_score = layout == "dcase" and year is not None and year >= 2021
    sets: dict[str, Any] = {}
    f1s = f1_fields(layout, year)
    for set_name, entry in a["sets"].items():
        if not entry.get("scored"):
            continue
        units = aligned_units(entry, b["sets"][set_name])
        dec = aligned_decisions(entry, b["sets"][set_name]) if f1s else None
        by_machine: dict[str, list[int]] = {}
        for k, u in enumerate(units):
            by_machine.setdefault(u[0], []).append(k)

        def row(idx: list[int], weights: list[float], level: str) -> dict[str, Any]:
            return _row([units[k] for k in idx], weights, level, aucs, hmean_score, n_boot, seed, alpha,
                        None if dec is None else [dec[k] for k in idx], f1s)

        rows: dict[str, Any] = {}
        for machine, idx in by_machine.items():
            if len(idx) > 1:
                for k in idx:
                    rows[f"{machine}/{units[k][1]}"] = row([k], [1.0], "unit")
            rows[machine] = row(idx, [1 / len(idx)] * len(idx), "machine")
        order = [k for idx in by_machine.values() for k in idx]
        weights = [1 / (len(by_machine) * len(idx)) for idx in by_machine.values() for _ in idx]
        family = list(rows)
        rows["all"] = row(order, weights, "set")
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
            | ({"score": "paired bootstrap (label, unit, domain strata)"} if hmean_score else {})
            | {f: "paired bootstrap of the decisions' F1 (label, unit, domain strata)" for f in f1s},
            "note": "Holm: per metric over the rows of a set's table other than 'all'", "sets": sets}


def _headline_statistic(units: list[tuple[str, str, np.ndarray, np.ndarray]], weights: list[float],
                        aucs: dict[str, Mask], hmean_score: bool) -> tuple[np.ndarray, np.ndarray, Statistic]:
    """(labels, strata, statistic) of the set's headline over the concatenated units (machine, key, y, d):
    DCASE 2021+ the official harmonic mean of every unit's AUCs and pAUC; otherwise mean(AUC, pAUC) with
    the machine-then-unit weights of the evaluator's means (as ``set_headline``)."""
    y = np.concatenate([u[2] for u in units])
    d = np.concatenate([u[3] for u in units])
    which = np.concatenate([np.full(u[2].size, k) for k, u in enumerate(units)])
    in_unit = [which == k for k in range(len(units))]
    pauc = [on_subset(partial_auc(MAX_FPR), m) for m in in_unit]
    if hmean_score:
        parts = [on_subset(weighted_auc, m & mask(y, d)) for m in in_unit for mask in aucs.values()]
        stat = harmonic_mean(*parts, *pauc)
    else:
        auc = [on_subset(weighted_auc, m & aucs["auc"](y, d)) for m in in_unit]
        mean_auc, mean_pauc = _weighted(auc, weights), _weighted(pauc, weights)
        stat = lambda yy, s, c: 0.5 * (np.asarray(mean_auc(yy, s, c)) + np.asarray(mean_pauc(yy, s, c)))  # noqa: E731
    return y, np.stack([which, d], axis=1), stat


def headline_matrix(runs: list[dict[str, Any]], set_name: str, n_boot: int = N_BOOT,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(headline per run (E,), two-sided bootstrap p-values (E, E), bootstrap distribution (n_boot, E)) of
    one set's headline for E runs already checked as comparable: one stratified bootstrap over clips
    (strata: label, unit, domain) shared by every run, so column i − column j is the paired bootstrap of
    that pair (:func:`impact_bench.stats.auc.paired_bootstrap`)."""
    first = runs[0]
    layout, year = first["suite"]["layout"], first["suite"].get("year")
    aucs = tested_aucs(layout, year)
    hmean_score = layout == "dcase" and year is not None and year >= 2021
    base = first["sets"][set_name]
    units, scores = [], []
    for machine, per_unit in base["clips"].items():
        for key, c in per_unit.items():
            y, d, _ = arrays(c)
            units.append((machine, key, y, d))
            scores.append(np.stack([in_order(r["sets"][set_name]["clips"][machine][key], c["names"], "scores")
                                    for r in runs]))
    counts: dict[str, int] = {}
    for u in units:
        counts[u[0]] = counts.get(u[0], 0) + 1
    weights = [1 / (len(counts) * counts[u[0]]) for u in units]
    y, strata, stat = _headline_statistic(units, weights, aucs, hmean_score)
    observed, dist = bootstrap_many(y, strata, np.concatenate(scores, axis=1), stat, n_boot, seed)
    e = len(runs)
    p = np.ones((e, e))
    for i in range(e):
        for j in range(i + 1, e):
            p[i, j] = p[j, i] = percentile_summary(dist[:, i] - dist[:, j], 0.05)[2]
    return observed, p, dist
