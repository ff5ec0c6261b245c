"""95 % intervals for leaderboard cells (``impact-bench leaderboard --ci``) and the significance matrix.

Interval of one run's seed-averaged macro-F1 on a problem: the class-stratified two-level cluster bootstrap
of :mod:`impact_bench.stats.classification` (every seed's prediction of a drawn clip kept together, plus the
seeds' shrunken head effects), here for that run alone, percentile interval (Efron & Tibshirani 1993, ch. 13). Problem k uses bootstrap seed
``seed + k`` like ``impact_bench.compare.pairwise``, so a run's resamples are the ones its comparisons used
(the draws depend only on the problem's labels, ``n_boot`` and the seed). The overall interval is the
percentile interval of the mean over problems of the problems' bootstrap distributions (problems resampled
independently). Files without per-clip data (results schema < 1.2) get no interval.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from impact_bench.stats.classification import bootstrap_distribution
from impact_bench.stats.multiple import adjust

N_BOOT = 10_000


def _has_clips(problem: dict[str, Any]) -> bool:
    return problem.get("y_true") is not None and all(
        s.get("y_pred") is not None and s.get("test_idx") is not None for s in problem["seeds"])


def run_intervals(res: dict[str, Any], n_boot: int = N_BOOT, seed: int = 0,
                  alpha: float = 0.05) -> dict[str, tuple[float, float]]:
    """problem name (and "overall") → (low, high) of the seed-averaged macro-F1; {} without per-clip data."""
    problems = res["problems"]
    if not problems or not all(_has_clips(p) for p in problems):
        return {}
    out: dict[str, tuple[float, float]] = {}
    dists = []
    for k, prob in enumerate(problems):
        tests = [np.asarray(s["test_idx"]) for s in prob["seeds"]]
        preds = [[np.asarray(s["y_pred"]) for s in prob["seeds"]]]
        dist = bootstrap_distribution(np.asarray(prob["y_true"]), tests, preds, len(prob["tasks"]), n_boot, seed + k)
        dists.append(dist[:, 0])
        lo, hi = np.quantile(dist[:, 0], [alpha / 2, 1 - alpha / 2])
        out[prob["name"]] = (float(lo), float(hi))
    lo, hi = np.quantile(np.mean(dists, axis=0), [alpha / 2, 1 - alpha / 2])
    out["overall"] = (float(lo), float(hi))
    return out


def holm_matrix(p: np.ndarray) -> np.ndarray:
    """Symmetric (E, E) Holm-adjusted p-values over the E(E−1)/2 pairs (diagonal 1)."""
    p = np.asarray(p, dtype=np.float64)
    e = p.shape[0]
    iu = np.triu_indices(e, 1)
    out = np.ones((e, e))
    if iu[0].size:
        adj = adjust(p[iu], "holm")
        out[iu] = adj
        out[(iu[1], iu[0])] = adj
    return out
