"""ROC AUC inference: DeLong variances and paired tests, and a stratified paired bootstrap.

DeLong, DeLong & Clarke-Pearson (1988), "Comparing the areas under two or more correlated receiver
operating characteristic curves: a nonparametric approach", Biometrics 44:837-845, computed with the
O(n log n) midrank algorithm of Sun & Xu (2014), "Fast implementation of DeLong's algorithm for
comparing the areas under correlated receiver operating characteristic curves", IEEE Signal
Processing Letters 21(11):1389-1393. Positives are ``y == 1``; higher scores mean "more positive".
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.stats

from impact_bench.stats._common import (StatsInputError, draw_blocks, local_counts, make_strata, percentile_summary)

# (y (n,), scores (n,), counts (m, n) multiplicities) -> (m,) statistic of each weighted sample
Statistic = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or not np.isin(y, (0, 1)).all():
        raise StatsInputError(f"y: need a 1-D array of 0/1 (or bool) labels, got shape {y.shape}")
    return y.astype(bool)


def _score_matrix(scores: np.ndarray, n: int) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    s2 = s.reshape(1, -1) if s.ndim == 1 else s
    if s2.ndim != 2 or s2.shape[1] != n or not np.isfinite(s2).all():
        raise StatsInputError(f"scores: need finite values of shape (n,) or (k, n) with n = {n}, got {s.shape}")
    return s2


def structural_components(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's placement values for k scorers: V10 (k, n_pos), the share of negatives below each
    positive, and V01 (k, n_neg), the share of positives above each negative (ties count 1/2).

    Sun & Xu (2014): V10_i = (T_Z(i) − T_X(i)) / n_neg and V01_j = 1 − (T_Z(j) − T_Y(j)) / n_pos,
    with T_X, T_Y, T_Z the midranks among positives, among negatives and in the pooled sample.
    """
    yb = _labels(y)
    s = _score_matrix(scores, yb.size)
    m, n = int(yb.sum()), int((~yb).sum())
    if m < 2 or n < 2:
        raise StatsInputError(f"DeLong needs at least 2 positives and 2 negatives, got {m} and {n}")
    pos, neg = s[:, yb], s[:, ~yb]
    tz = scipy.stats.rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    v10 = (tz[:, :m] - scipy.stats.rankdata(pos, axis=1)) / n
    v01 = 1.0 - (tz[:, m:] - scipy.stats.rankdata(neg, axis=1)) / m
    return v10, v01


@dataclass(frozen=True)
class DeLongResult:
    auc: np.ndarray  # (k,)
    cov: np.ndarray  # (k, k) DeLong covariance S10/n_pos + S01/n_neg
    n_pos: int
    n_neg: int


def delong_many(y: np.ndarray, scores: np.ndarray) -> DeLongResult:
    """AUCs and their full DeLong covariance matrix for k scorers at once (``scores`` (k, n)):
    AUC_r = mean(V10_r); S = S10/m + S01/n, S10 and S01 the sample covariances (ddof 1) of the
    placement values across positives and negatives (DeLong et al. 1988)."""
    v10, v01 = structural_components(y, scores)
    m, n = v10.shape[1], v01.shape[1]
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return DeLongResult(v10.mean(axis=1), cov, m, n)


def delong_auc_variance(y: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """(AUC, DeLong variance of the AUC) of one scorer."""
    s = _score_matrix(scores, np.asarray(y).size)
    if s.shape[0] != 1:
        raise StatsInputError(f"delong_auc_variance: one scorer expected, got {s.shape[0]}; use delong_many")
    r = delong_many(y, s)
    return float(r.auc[0]), float(r.cov[0, 0])


def delong_ci(y: np.ndarray, scores: np.ndarray, alpha: float = 0.05) -> tuple[float, float, float]:
    """(AUC, low, high): AUC ± z_{1−alpha/2} · sqrt(DeLong variance), clipped to [0, 1] (as pROC's
    ``ci.auc(method="delong")``)."""
    _alpha(alpha)
    auc, var = delong_auc_variance(y, scores)
    half = float(scipy.stats.norm.ppf(1 - alpha / 2)) * np.sqrt(var)
    return auc, float(max(0.0, auc - half)), float(min(1.0, auc + half))


@dataclass(frozen=True)
class DeLongPairedResult:
    auc_a: float
    auc_b: float
    diff: float  # auc_a − auc_b
    variance: float  # var_a + var_b − 2 cov_ab
    z: float
    p_value: float  # two-sided, normal approximation
    ci_low: float  # of the difference, at level 1 − alpha
    ci_high: float


def delong_paired(y: np.ndarray, scores_a: np.ndarray, scores_b: np.ndarray, alpha: float = 0.05) -> DeLongPairedResult:
    """DeLong's test of AUC_a = AUC_b for two scorers on the same clips (DeLong et al. 1988):
    z = (AUC_a − AUC_b) / sqrt(var_a + var_b − 2 cov_ab). Zero variance: z = 0, p = 1 for equal AUCs
    (identical rankings), else z = ±inf, p = 0."""
    _alpha(alpha)
    yb = _labels(y)
    r = delong_many(yb, np.stack([_score_matrix(scores_a, yb.size)[0], _score_matrix(scores_b, yb.size)[0]]))
    diff = float(r.auc[0] - r.auc[1])
    var = float(max(r.cov[0, 0] + r.cov[1, 1] - 2 * r.cov[0, 1], 0.0))
    z = diff / np.sqrt(var) if var > 0 else (0.0 if diff == 0 else float(np.copysign(np.inf, diff)))
    p = float(2 * scipy.stats.norm.sf(abs(z)))
    half = float(scipy.stats.norm.ppf(1 - alpha / 2)) * np.sqrt(var)
    return DeLongPairedResult(float(r.auc[0]), float(r.auc[1]), diff, var, float(z), p, diff - half, diff + half)


def _alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise StatsInputError(f"alpha must be in (0, 1), got {alpha}")


def _tie_groups(y: np.ndarray, scores: np.ndarray, counts: np.ndarray, descending: bool) -> tuple[np.ndarray, np.ndarray]:
    """Weighted positive and negative totals per distinct score, (m, G), scores sorted."""
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-s if descending else s, kind="stable")
    ss = s[order]
    starts = np.concatenate([[0], np.flatnonzero(ss[1:] != ss[:-1]) + 1])
    w = np.asarray(counts, dtype=np.float64)[:, order]
    yp = np.asarray(y, dtype=bool)[order]
    return np.add.reduceat(w * yp, starts, axis=1), np.add.reduceat(w * ~yp, starts, axis=1)


def weighted_auc(y: np.ndarray, scores: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """ROC AUC of each weighted sample (row of ``counts``): the Mann-Whitney statistic
    Σ w_i w_j ψ(s_i, s_j) / (W_pos W_neg), ψ = 1, 1/2, 0 for >, =, < (= ``roc_auc_score`` with
    ``sample_weight``). Vectorised over rows: one sort, then cumulative sums per tie group."""
    pos, neg = _tie_groups(y, scores, counts, descending=False)
    below = np.cumsum(neg, axis=1) - neg
    return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def partial_auc(max_fpr: float) -> Statistic:
    """Statistic: standardized partial AUC over FPR ∈ [0, max_fpr] (McClish 1989, Medical Decision
    Making 9:190-195): 0.5·(1 + (A − max_fpr²/2) / (max_fpr − max_fpr²/2)), A the trapezoidal area
    under the ROC curve up to max_fpr, = scikit-learn ``roc_auc_score(max_fpr=...)`` (the DCASE pAUC)."""
    if not 0.0 < max_fpr <= 1.0:
        raise StatsInputError(f"max_fpr must be in (0, 1], got {max_fpr}")

    def stat(y: np.ndarray, scores: np.ndarray, counts: np.ndarray) -> np.ndarray:
        pos, neg = _tie_groups(y, scores, counts, descending=True)
        zero = np.zeros((pos.shape[0], 1))
        tpr = np.concatenate([zero, np.cumsum(pos, axis=1)], axis=1) / pos.sum(axis=1, keepdims=True)
        fpr = np.concatenate([zero, np.cumsum(neg, axis=1)], axis=1) / neg.sum(axis=1, keepdims=True)
        x0, x1, y0, y1 = fpr[:, :-1], fpr[:, 1:], tpr[:, :-1], tpr[:, 1:]
        c0, c1 = np.minimum(x0, max_fpr), np.minimum(x1, max_fpr)
        slope = np.divide(y1 - y0, x1 - x0, out=np.zeros_like(x0), where=x1 > x0)
        area = ((c1 - c0) * (y0 + slope * (c0 - x0) + y0 + slope * (c1 - x0)) / 2).sum(axis=1)
        lo = 0.5 * max_fpr ** 2
        return 0.5 * (1 + (area - lo) / (max_fpr - lo))

    return stat


def binary_f1(y: np.ndarray, decisions: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """F1 of the positive class for 0/1 ``decisions`` of each weighted sample: 2TP / (2TP + FP + FN),
    0 when there is no positive and no positive decision."""
    yb, d = _labels(y), _labels(decisions)
    w = np.asarray(counts, dtype=np.float64)
    tp, fp, fn = w @ (yb & d), w @ (~yb & d), w @ (yb & ~d)
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros_like(denom), where=denom > 0)


def on_subset(statistic: Statistic, mask: np.ndarray) -> Statistic:
    """``statistic`` on the clips selected by ``mask`` (use a union of bootstrap strata, so that every
    resample keeps that subset's positives and negatives)."""
    mask = np.asarray(mask, dtype=bool)
    return lambda y, scores, counts: statistic(y[mask], scores[mask], counts[:, mask])


def harmonic_mean(*statistics: Statistic, eps: float = sys.float_info.epsilon) -> Statistic:
    """Harmonic mean of several statistics, each floored at ``eps`` (the DCASE official score:
    hmean over AUC-source, AUC-target and pAUC of every section)."""
    def stat(y: np.ndarray, scores: np.ndarray, counts: np.ndarray) -> np.ndarray:
        vals = np.maximum(np.stack([f(y, scores, counts) for f in statistics]), eps)
        return len(statistics) / (1.0 / vals).sum(axis=0)
    return stat


def per_resample(fn: Callable[[np.ndarray, np.ndarray], float]) -> Statistic:
    """Wrap a plain ``fn(y, scores) -> float`` as a Statistic by expanding each resample (a loop)."""
    def stat(y: np.ndarray, scores: np.ndarray, counts: np.ndarray) -> np.ndarray:
        idx = np.arange(len(y))
        return np.array([fn(y[np.repeat(idx, c)], scores[np.repeat(idx, c)]) for c in np.asarray(counts)])
    return stat


@dataclass(frozen=True)
class PairedBootstrapResult:
    stat_a: float
    stat_b: float
    observed: float  # stat_a − stat_b
    ci_low: float  # percentile CI at level 1 − alpha
    ci_high: float
    p_value: float  # min(1, 2·min(P*(d* ≤ 0), P*(d* ≥ 0)))
    n_boot: int
    seed: int
    alpha: float
    distribution: np.ndarray  # (n_boot,) bootstrap differences d*


def paired_bootstrap(y: np.ndarray, strata: np.ndarray | None, scores_a: np.ndarray, scores_b: np.ndarray,
                     statistic: Statistic = weighted_auc, n_boot: int = 10_000, seed: int = 0,
                     alpha: float = 0.05) -> PairedBootstrapResult:
    """Paired bootstrap of statistic(A) − statistic(B) on the same clips, stratified by (label, stratum)
    (e.g. ``strata`` = domain codes, or rows of (section, domain) codes; None: by label only).

    Resamples as in Efron & Tibshirani (1993), percentile CI (ch. 13); both scorers see the same
    clips. ``statistic(y, scores, counts)`` gets the (m, n) multiplicities of a block of resamples and
    returns m values: vectorised for :func:`weighted_auc`, :func:`partial_auc`, :func:`binary_f1` and
    their :func:`on_subset` / :func:`harmonic_mean` combinations; :func:`per_resample` wraps any other.
    p-value: min(1, 2·min(P*(d* ≤ 0), P*(d* ≥ 0))).
    """
    _alpha(alpha)
    observed, dist = bootstrap_many(y, strata, np.stack([_score_matrix(scores_a, np.size(y))[0],
                                                         _score_matrix(scores_b, np.size(y))[0]]),
                                    statistic, n_boot, seed)
    d = dist[:, 0] - dist[:, 1]
    lo, hi, p = percentile_summary(d, alpha)
    sa, sb = float(observed[0]), float(observed[1])
    return PairedBootstrapResult(sa, sb, sa - sb, lo, hi, p, n_boot, seed, alpha, d)


def bootstrap_many(y: np.ndarray, strata: np.ndarray | None, scores: np.ndarray, statistic: Statistic = weighted_auc,
                   n_boot: int = 10_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(observed (E,), distribution (n_boot, E)) of ``statistic`` for E scorers of the same clips, all on the
    same stratified resamples as :func:`paired_bootstrap` with the same arguments (so column i − column j is
    that pair's bootstrap distribution): the ranks of a leaderboard from one set of draws."""
    yb = _labels(y)
    n = yb.size
    sc = np.asarray(scores, dtype=np.float64)
    if sc.ndim != 2 or sc.shape[1] != n:
        raise StatsInputError(f"scores: need (scorers, {n}) values, got shape {sc.shape}")
    keys = yb.astype(np.int64)[:, None]
    if strata is not None:
        st = np.asarray(strata)
        if st.ndim not in (1, 2) or st.shape[0] != n:
            raise StatsInputError(f"strata: need one code (or row of codes) per clip ({n}), got shape {st.shape}")
        codes = np.unique(st.reshape(n, -1), axis=0, return_inverse=True)[1].reshape(n, 1)
        keys = np.concatenate([keys, codes], axis=1)
    groups = make_strata(keys)
    ones = np.ones((1, n), dtype=np.int64)
    observed = np.array([float(statistic(yb, row, ones)[0]) for row in sc])
    parts = []
    for block in draw_blocks(groups, n_boot, seed):
        counts = np.zeros((block[0].shape[0], n), dtype=np.int64)
        for pos, draws in zip(groups.members, block):
            counts[:, pos] = local_counts(draws, pos.size)
        parts.append(np.stack([np.asarray(statistic(yb, row, counts)) for row in sc], axis=1))
    return observed, np.concatenate(parts)
