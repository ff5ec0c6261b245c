"""Multiple-comparison adjustment and leaderboard tie groups.

Holm (1979), "A simple sequentially rejective multiple test procedure", Scandinavian Journal of
Statistics 6:65-70 (family-wise error); Benjamini & Hochberg (1995), "Controlling the false discovery
rate", Journal of the Royal Statistical Society B 57:289-300. Both via statsmodels' ``multipletests``.
"""
from __future__ import annotations

import numpy as np
from statsmodels.stats.multitest import multipletests

from impact_bench.stats._common import StatsInputError

METHODS = ("holm", "fdr_bh")


def adjust(pvalues: np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjusted p-values (same order as the input): ``multipletests(p, method=method)[1]``.

    holm: p_(i) ↦ max_{j ≤ i} min(1, (m − j + 1) · p_(j)) over the ascending p_(1) ≤ ... ≤ p_(m);
    fdr_bh: p_(i) ↦ min_{j ≥ i} min(1, m · p_(j) / j).
    """
    if method not in METHODS:
        raise StatsInputError(f"method must be one of {METHODS}, got {method!r}")
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1 or not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise StatsInputError(f"pvalues: need a 1-D array of values in [0, 1], got {pvalues!r}")
    if p.size == 0:
        return p.copy()
    return np.asarray(multipletests(p, method=method)[1], dtype=np.float64)


def tie_groups(means: np.ndarray, pairwise_p: np.ndarray, alpha: float = 0.05, method: str = "holm") -> list[int]:
    """Leaderboard ranks with ties: the encoder with the best (highest) mean gets rank 1, and so does
    every remaining encoder whose comparison WITH THAT BEST one is not significant at ``alpha`` after
    adjusting the p-values of those comparisons (only those, ``method``) together; the rule is then
    repeated on the encoders left (rank 2, 3, ...). Returns ranks aligned with ``means``.

    ``pairwise_p`` (k, k): symmetric two-sided p-values; the diagonal is ignored. Equal best means:
    the first in input order is the reference.
    """
    mu = np.asarray(means, dtype=np.float64)
    p = np.asarray(pairwise_p, dtype=np.float64)
    k = mu.size
    if mu.ndim != 1 or not np.isfinite(mu).all():
        raise StatsInputError(f"means: need a finite 1-D array, got shape {mu.shape}")
    if p.shape != (k, k):
        raise StatsInputError(f"pairwise_p: need shape ({k}, {k}), got {p.shape}")
    off = ~np.eye(k, dtype=bool)
    if not np.isfinite(p[off]).all() or (p[off] < 0).any() or (p[off] > 1).any():
        raise StatsInputError("pairwise_p: off-diagonal entries must be p-values in [0, 1]")
    if not np.allclose(p[off], p.T[off], rtol=0, atol=1e-12):
        raise StatsInputError("pairwise_p must be symmetric (two-sided p-values)")
    if not 0.0 < alpha < 1.0:
        raise StatsInputError(f"alpha must be in (0, 1), got {alpha}")
    ranks = [0] * k
    left = list(range(k))
    rank = 1
    while left:
        best = max(left, key=lambda i: (mu[i], -i))
        others = [i for i in left if i != best]
        adj = adjust(p[best, others], method)
        group = [best] + [i for i, q in zip(others, adj) if q >= alpha]
        for i in group:
            ranks[i] = rank
        left = [i for i in left if i not in group]
        rank += 1
    return ranks
