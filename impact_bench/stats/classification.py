"""Paired comparisons of encoders' macro-F1 over repeated, overlapping train/test splits.

Default test: :func:`cluster_bootstrap`. With 10 stratified 20/80 splits each clip is a test clip in
about 8 of the 10 seeds, so the (seed, clip) outcomes are not independent; the bootstrap therefore
resamples CLIPS (a cluster bootstrap: Davison & Hinkley 1997, *Bootstrap Methods and their
Application*, ch. 3; Field & Welsh 2007, JRSS B 69:369-390; stratified by class) and keeps every seed's prediction of a drawn clip with
it. By default it is two-level: each seed's trained head is a draw too, and the head-to-head spread
left after the clip-level spread is added by resampling shrunken seed effects (:mod:`._levels`). The per-seed differences can also be tested with :func:`corrected_resampled_ttest` (Nadeau &
Bengio 2003), :func:`paired_ttest` or :func:`wilcoxon`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.stats

from impact_bench.stats._cluster import Problem, bootstrap_f1_reference, bootstrap_f1_seeds, macro_f1, prepare
from impact_bench.stats._common import StatsInputError, percentile_summary, seed_weight_blocks
from impact_bench.stats._levels import seed_component

LEVELS = ("clips", "clips+seeds")

# Default resampling levels of the cluster bootstrap. Two-level: a null simulation on the synthetic suite
# (docs/statistics.md) showed the clips-only bootstrap, which holds the trained heads fixed, rejecting
# ~13 % of true nulls at alpha = 0.05 once the heads themselves vary between encoders.
DEFAULT_LEVELS = "clips+seeds"

__all__ = ["DEFAULT_LEVELS", "LEVELS", "ClusterBootstrapResult", "bootstrap_distribution", "PairwiseBootstrapResult", "TTestResult", "WilcoxonResult", "cluster_bootstrap",
           "cluster_bootstrap_pairwise", "cluster_bootstrap_reference", "corrected_resampled_ttest", "macro_f1",
           "paired_ttest", "wilcoxon"]


@dataclass(frozen=True)
class ClusterBootstrapResult:
    """A − B in seed-averaged macro-F1, with its clip-level bootstrap distribution."""

    observed: float  # mean over seeds of macro-F1(A) − macro-F1(B)
    ci_low: float  # percentile CI at level 1 − alpha
    ci_high: float
    p_value: float  # min(1, 2·min(P*(d* ≤ 0), P*(d* ≥ 0)))
    n_boot: int
    seed: int
    alpha: float
    f1_a: np.ndarray  # (S,) observed macro-F1 of A per seed
    f1_b: np.ndarray
    n_clips: int  # clips in the union of the test sets: the resampled units
    distribution: np.ndarray  # (n_boot,) bootstrap differences d*
    levels: str = DEFAULT_LEVELS  # what was resampled: "clips" or "clips+seeds"


@dataclass(frozen=True)
class PairwiseBootstrapResult:
    """All ordered pairs of E encoders on the same resamples; entry [i, j] is encoder i − encoder j."""

    f1: np.ndarray  # (E, S) observed macro-F1 per encoder and seed
    diff: np.ndarray  # (E, E) observed differences of seed means
    ci_low: np.ndarray  # (E, E)
    ci_high: np.ndarray
    p_value: np.ndarray  # (E, E), 1 on the diagonal
    n_boot: int
    seed: int
    alpha: float
    n_clips: int
    distribution: np.ndarray  # (n_boot, E) seed-averaged macro-F1 of each encoder per resample
    levels: str = DEFAULT_LEVELS
    differences: np.ndarray | None = None  # (n_boot, E, E) bootstrap distribution of encoder i − encoder j


def _check_levels(levels: str) -> None:
    if levels not in LEVELS:
        raise StatsInputError(f"levels must be one of {', '.join(LEVELS)}, got {levels!r}")


def _seed_weights(levels: str, n_seeds: int, n_boot: int, seed: int) -> np.ndarray | None:
    """(n_boot, S) seed multiplicities of the two-level test, or None for the clip level alone."""
    if levels == "clips":
        return None
    return np.concatenate(list(seed_weight_blocks(n_seeds, n_boot, seed)))


def _levelled(observed: np.ndarray, boot: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """(m, ...) seed-averaged bootstrap values; with ``weights`` plus the shrunken head component."""
    mean = boot.mean(axis=-1)
    return mean if weights is None else mean + seed_component(observed, boot, weights)


def _bootstrap(prob: Problem, n_boot: int, seed: int, levels: str, reference: bool = False
               ) -> tuple[np.ndarray, np.ndarray | None]:
    _check_levels(levels)
    boot = (bootstrap_f1_reference if reference else bootstrap_f1_seeds)(prob, n_boot, seed)
    return boot, _seed_weights(levels, prob.pred.shape[1], n_boot, seed)


def _pair(y_true: np.ndarray, tests: Sequence[np.ndarray], a: Sequence[np.ndarray], b: Sequence[np.ndarray],
          n_classes: int, n_boot: int, seed: int, alpha: float, reference: bool, levels: str) -> ClusterBootstrapResult:
    prob = prepare(y_true, tests, [a, b], n_classes)
    percentile_summary(np.zeros(1), alpha)  # validate alpha before the work
    boot, weights = _bootstrap(prob, n_boot, seed, levels, reference)
    d = _levelled(prob.observed[0] - prob.observed[1], boot[:, 0] - boot[:, 1], weights)
    lo, hi, p = percentile_summary(d, alpha)
    obs = float(prob.observed[0].mean() - prob.observed[1].mean())
    return ClusterBootstrapResult(obs, lo, hi, p, n_boot, seed, alpha, prob.observed[0].copy(),
                                  prob.observed[1].copy(), int(prob.y.size), d, levels)


def cluster_bootstrap(y_true: np.ndarray, test_idx_per_seed: Sequence[np.ndarray],
                      pred_a_per_seed: Sequence[np.ndarray], pred_b_per_seed: Sequence[np.ndarray],
                      n_classes: int, n_boot: int = 10_000, seed: int = 0,
                      alpha: float = 0.05, levels: str = DEFAULT_LEVELS) -> ClusterBootstrapResult:
    """Paired, class-stratified cluster bootstrap of the seed-averaged macro-F1 difference A − B.

    ``y_true`` (N,) labels of all clips; ``test_idx_per_seed[s]`` the test clips of seed s (indices
    into ``y_true``), ``pred_*_per_seed[s]`` the predictions for them in that order. One resample draws,
    within each class, as many clips as the union of test sets holds, with replacement, from that
    union (Davison & Hinkley 1997, ch. 3); each seed's macro-F1 is recomputed on its test clips that
    were drawn, with multiplicity, for both encoders, then averaged over seeds. Returns the observed
    difference, the percentile CI (Efron & Tibshirani 1993, ch. 13) and the two-sided p-value
    p = min(1, 2·min(P*(d* ≤ 0), P*(d* ≥ 0))) over the ``n_boot`` bootstrap differences d*.
    Vectorised: (resamples × clips) count matrices times (clips × encoder/seed/class) 0/1 design
    matrices give every predicted count, TP and support at once, in blocks of 500 resamples.
    ``levels="clips+seeds"`` (the default, two-level) adds to each resample the head component of the
    seeds: the centred per-seed differences, shrunk to the head variance left after the clip-level
    spread (Davison & Hinkley 1997 §3.8), averaged over S seeds drawn with replacement
    (:mod:`impact_bench.stats._levels`); ``"clips"`` holds the trained heads fixed.
    """
    return _pair(y_true, test_idx_per_seed, pred_a_per_seed, pred_b_per_seed, n_classes, n_boot, seed, alpha, False,
                 levels)


def cluster_bootstrap_reference(y_true: np.ndarray, test_idx_per_seed: Sequence[np.ndarray],
                                pred_a_per_seed: Sequence[np.ndarray], pred_b_per_seed: Sequence[np.ndarray],
                                n_classes: int, n_boot: int = 10_000, seed: int = 0,
                                alpha: float = 0.05, levels: str = DEFAULT_LEVELS) -> ClusterBootstrapResult:
    """:func:`cluster_bootstrap` as a plain loop over resamples, seeds and encoders calling
    :func:`macro_f1` (same RNG draws, identical result); for tests and benchmarks only (~25× slower)."""
    return _pair(y_true, test_idx_per_seed, pred_a_per_seed, pred_b_per_seed, n_classes, n_boot, seed, alpha, True,
                 levels)


def cluster_bootstrap_pairwise(y_true: np.ndarray, test_idx_per_seed: Sequence[np.ndarray],
                               preds_per_encoder: Sequence[Sequence[np.ndarray]], n_classes: int,
                               n_boot: int = 10_000, seed: int = 0, alpha: float = 0.05,
                               levels: str = DEFAULT_LEVELS) -> PairwiseBootstrapResult:
    """:func:`cluster_bootstrap` for every ordered pair of E encoders from ONE set of resamples
    (the draws depend only on the labels of the union, ``n_boot`` and ``seed``, so entry [i, j]
    equals ``cluster_bootstrap`` of encoders i and j exactly)."""
    if len(preds_per_encoder) < 2:
        raise StatsInputError(f"need at least 2 encoders, got {len(preds_per_encoder)}")
    prob = prepare(y_true, test_idx_per_seed, preds_per_encoder, n_classes)
    percentile_summary(np.zeros(1), alpha)
    boot, weights = _bootstrap(prob, n_boot, seed, levels)
    dist = _levelled(prob.observed, boot, weights)
    E = dist.shape[1]
    means = prob.observed.mean(axis=1)
    lo, hi, p = np.zeros((E, E)), np.zeros((E, E)), np.ones((E, E))
    diffs = np.zeros((n_boot, E, E))
    for i in range(E):
        for j in range(i + 1, E):
            diffs[:, i, j] = _levelled(prob.observed[i] - prob.observed[j], boot[:, i] - boot[:, j], weights)
            diffs[:, j, i] = -diffs[:, i, j]
            lo[i, j], hi[i, j], p[i, j] = percentile_summary(diffs[:, i, j], alpha)
            lo[j, i], hi[j, i], p[j, i] = percentile_summary(diffs[:, j, i], alpha)
    return PairwiseBootstrapResult(prob.observed, means[:, None] - means[None, :], lo, hi, p, n_boot, seed, alpha,
                                   int(prob.y.size), dist, levels, diffs)


def bootstrap_distribution(y_true: np.ndarray, test_idx_per_seed: Sequence[np.ndarray],
                           preds_per_encoder: Sequence[Sequence[np.ndarray]], n_classes: int, n_boot: int = 10_000,
                           seed: int = 0, levels: str = DEFAULT_LEVELS) -> np.ndarray:
    """(n_boot, E) bootstrap distribution of each encoder's seed-averaged macro-F1 (for intervals), the same
    resamples as :func:`cluster_bootstrap_pairwise` with the same arguments."""
    prob = prepare(y_true, test_idx_per_seed, preds_per_encoder, n_classes)
    boot, weights = _bootstrap(prob, n_boot, seed, levels)
    return _levelled(prob.observed, boot, weights)


@dataclass(frozen=True)
class TTestResult:
    mean: float  # mean of the differences
    t: float
    df: int
    p_value: float  # two-sided
    ci_low: float
    ci_high: float
    se: float  # standard error used in t


def _diffs(diffs: np.ndarray, need: int = 2) -> np.ndarray:
    d = np.asarray(diffs, dtype=np.float64)
    if d.ndim != 1 or d.size < need or not np.isfinite(d).all():
        raise StatsInputError(f"diffs: need a finite 1-D array of at least {need} values, got shape {d.shape}")
    return d


def _t_result(d: np.ndarray, factor: float, alpha: float) -> TTestResult:
    """t = mean / sqrt(factor · var(d, ddof=1)), df = k − 1; zero variance gives t = 0 (p = 1) for a zero
    mean and t = ±inf (p = 0) otherwise."""
    if not 0.0 < alpha < 1.0:
        raise StatsInputError(f"alpha must be in (0, 1), got {alpha}")
    k, mean = d.size, float(d.mean())
    se = float(np.sqrt(factor * d.var(ddof=1)))
    t = mean / se if se > 0 else (0.0 if mean == 0 else float(np.copysign(np.inf, mean)))
    p = float(2 * scipy.stats.t.sf(abs(t), k - 1))
    half = float(scipy.stats.t.ppf(1 - alpha / 2, k - 1)) * se
    return TTestResult(mean, float(t), k - 1, p, mean - half, mean + half, se)


def corrected_resampled_ttest(diffs: np.ndarray, n_train: int, n_test: int, alpha: float = 0.05) -> TTestResult:
    """Nadeau & Bengio (2003), "Inference for the generalization error", Machine Learning 52:239-281:
    t = mean(d) / sqrt((1/k + n_test/n_train) · var(d, ddof=1)), df = k − 1, over k per-split differences.

    The n_test/n_train term accounts for the overlap of training sets between splits. With 20/80
    splits n_test/n_train = 4, so at k = 10 the variance is (0.1 + 4)/0.1 = 41× the naive 1/k one:
    very conservative (the correction was derived for training sets larger than test sets).
    """
    if n_train < 1 or n_test < 1:
        raise StatsInputError(f"n_train and n_test must be >= 1, got {n_train}, {n_test}")
    d = _diffs(diffs)
    return _t_result(d, 1.0 / d.size + n_test / n_train, alpha)


def paired_ttest(diffs: np.ndarray, alpha: float = 0.05) -> TTestResult:
    """Student's paired t-test on per-seed differences (= ``scipy.stats.ttest_1samp(diffs, 0)``).

    Anti-conservative here: overlapping splits make the k differences positively correlated, so
    var(d)/k underestimates the variance of their mean (Dietterich 1998, Neural Computation 10:1895;
    Nadeau & Bengio 2003). Reported for comparison only.
    """
    d = _diffs(diffs)
    return _t_result(d, 1.0 / d.size, alpha)


@dataclass(frozen=True)
class WilcoxonResult:
    statistic: float  # scipy's: the smaller of the signed-rank sums
    p_value: float  # two-sided
    n_nonzero: int  # differences left after dropping zeros ("wilcox" zero method)
    note: str


def wilcoxon(diffs: np.ndarray) -> WilcoxonResult:
    """Wilcoxon signed-rank test (Wilcoxon 1945, Biometrics Bulletin 1:80-83) via
    ``scipy.stats.wilcoxon(diffs)`` (zeros dropped; exact null distribution for small samples without
    ties). All differences zero: p = 1 (scipy has nothing to rank) with a note."""
    d = _diffs(diffs, need=1)
    nz = int(np.count_nonzero(d))
    if nz == 0:
        return WilcoxonResult(0.0, 1.0, 0, "all differences are zero: nothing to rank, p set to 1")
    res = scipy.stats.wilcoxon(d)
    return WilcoxonResult(float(res.statistic), float(res.pvalue), nz, "")
