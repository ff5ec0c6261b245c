"""Known-answer tests for impact_bench.stats: every statistic against its definition, scipy /
scikit-learn / statsmodels, or published values.

Published values used (DeLong): the pROC R package's own test expectations on its ``aSAH`` data
(Turck et al. 2010, Intensive Care Medicine 36:107-115; 113 patients, outcome Poor = positive),
github.com/xrobin/pROC at ee2877e8: tests/testthat/test-var.R (DeLong variances), test-cov.R
(covariances), test-roc.test.R (paired DeLong Z, p, 95 % CI of the difference), test-ci.auc.R
(ci.auc of ndka) and helper-deLongPlacementsCpp-expected.R (placement values). The data below were
read from pROC's data/aSAH.RData (same commit).
"""
from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import f1_score, roc_auc_score
from statsmodels.stats.multitest import multipletests

from impact_bench.errors import ImpactBenchError
from impact_bench.metrics import confusion, scores
from impact_bench.stats import (StatsInputError, adjust, binary_f1, cluster_bootstrap, cluster_bootstrap_pairwise,
                                cluster_bootstrap_reference, corrected_resampled_ttest, delong_auc_variance,
                                delong_ci, delong_many, delong_paired, harmonic_mean, macro_f1, on_subset,
                                paired_bootstrap, paired_ttest, partial_auc, per_resample, structural_components,
                                tie_groups, weighted_auc, wilcoxon)

# --- aSAH (pROC) -------------------------------------------------------------------------------------
ASAH_POOR = "00001101001011001011101000000000100110110000000001100010001010011101101111000110100000010000000000001111110001000"
ASAH_WFNS = "11113254125255125225211112121134214541425511241125521251222151125214524414121421232421451154221113125225552445111"
ASAH_S100B = (
    "0.13 0.14 0.1 0.04 0.13 0.1 0.47 0.16 0.18 0.1 0.12 0.1 0.44 0.71 0.04 0.08 0.49 0.04 0.07 0.33 0.09 "
    "0.09 0.07 0.11 0.07 0.17 0.07 0.11 0.13 0.19 0.05 0.16 0.41 0.14 0.34 0.35 0.48 0.09 0.96 0.25 0.5 "
    "0.46 0.16 0.07 0.43 0.45 0.11 0.08 0.09 0.86 0.52 0.08 0.06 0.13 2.07 0.1 0.14 0.15 0.07 0.06 0.77 "
    "0.05 0.09 0.3 0.03 0.09 0.04 0.23 0.7 0.09 0.27 0.71 0.08 0.26 0.08 0.16 0.09 0.13 0.1 0.08 0.11 "
    "0.33 0.11 0.28 0.07 0.1 0.32 0.22 0.07 0.05 0.24 0.38 0.1 0.15 0.08 0.14 0.1 0.07 0.04 0.19 0.56 "
    "0.14 0.58 0.32 0.82 0.74 0.15 0.47 0.17 0.44 0.15 0.5 0.48")
ASAH_NDKA = (
    "3.01 8.54 8.09 10.42 17.4 12.75 6 13.2 15.54 6.01 15.96 17.86 5.18 8.9 13.41 20.75 11.6 16.11 32.37 "
    "54.82 32.41 49.94 40.34 9.47 6.29 12.53 6.54 6.3 80.3 12.8 9.8 9.81 9.85 18.21 5.03 14.04 21.93 8.02 "
    "7.42 8.38 6.59 9.63 13.12 7.96 14.34 41.43 7.63 7.06 12.59 13.56 3.87 9.44 7.66 12.98 419.19 27.19 "
    "22.27 9.95 21.22 11.73 10.4 58.83 6.39 11.09 12.22 13.67 17.21 22.63 12.9 9.7 21.57 8.23 72.57 15.54 "
    "10.51 10.6 14.57 5.19 9.63 4.61 21.48 17.3 12.71 9.44 11.07 19.46 10.83 5.37 11.97 7.75 9.83 10.55 "
    "28.49 8.53 12.57 12.9 46.83 11.68 12.67 9.01 9.57 34.06 11.72 14.26 47.61 11.67 24.58 10.33 13.87 "
    "15.89 22.43 6.79 13.45")


@pytest.fixture(scope="module")
def asah() -> dict[str, np.ndarray]:
    d = {"y": np.array([int(c) for c in ASAH_POOR]), "wfns": np.array([float(c) for c in ASAH_WFNS]),
         "s100b": np.array(ASAH_S100B.split(), dtype=float), "ndka": np.array(ASAH_NDKA.split(), dtype=float)}
    assert all(v.size == 113 for v in d.values()) and d["y"].sum() == 41
    return d


def test_delong_matches_proc_variances_and_covariances(asah):
    y = asah["y"]
    for name, var in [("wfns", 0.00146991470882363), ("ndka", 0.0031908105493913), ("s100b", 0.00266868245717244)]:
        assert delong_auc_variance(y, asah[name])[1] == pytest.approx(var, rel=1e-12)  # test-var.R
    r = delong_many(y, np.stack([asah["wfns"], asah["ndka"], asah["s100b"]]))
    np.testing.assert_allclose(r.auc, [0.823678861788618, 0.611957994579946, 0.731368563685637], rtol=1e-13)
    np.testing.assert_allclose([r.cov[0, 1], r.cov[1, 2], r.cov[2, 0]],  # test-cov.R
                               [-0.000532967856762438, -0.000756164938056579, 0.00119615567376754], rtol=1e-12)
    np.testing.assert_allclose(delong_ci(y, asah["ndka"]), [0.611957994579946, 0.501244999271703, 0.722670989888189],
                               rtol=1e-12)  # test-ci.auc.R: (auc, low, high)


@pytest.mark.parametrize("a,b,z,p,lo,hi", [  # test-roc.test.R: roc.test(r.wfns, r.s100b) etc.
    ("wfns", "s100b", 2.20898359144091, 0.0271757822291882, 0.0104061769564846, 0.174214419249478),
    ("wfns", "ndka", 2.79777591868904, 0.00514557970691098, 0.0634011709339876, 0.3600405634833566),
    ("ndka", "s100b", -1.39077002573558, 0.164295175223054, -0.2876917446341914, 0.0488706064228094)])
def test_delong_paired_matches_proc_roc_test(asah, a, b, z, p, lo, hi):
    r = delong_paired(asah["y"], asah[a], asah[b])
    np.testing.assert_allclose([r.z, r.p_value, r.ci_low, r.ci_high], [z, p, lo, hi], rtol=1e-10)
    flipped = delong_paired(asah["y"], asah[b], asah[a])
    assert flipped.z == pytest.approx(-z, rel=1e-12) and flipped.p_value == pytest.approx(p, rel=1e-12)


def test_delong_placements_match_proc(asah):
    v10, v01 = structural_components(asah["y"], asah["s100b"])  # helper-deLongPlacementsCpp-expected.R, s100b
    np.testing.assert_allclose(v10[0, :6], [0.5625, 0.4375, 0.715277777777778, 0.541666666666667, 0.902777777777778, 1])
    np.testing.assert_allclose(v01[0, :4], [0.707317073170732, 0.670731707317073, 0.804878048780488, 0.975609756097561])


def _psi_direct(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong (1988) from the definition: psi(X_i, Y_j) = 1, 1/2, 0; V10_i = mean_j, V01_j = mean_i."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def test_delong_equals_direct_structural_components_and_sklearn():
    rng = np.random.default_rng(0)
    for trial in range(5):
        n = int(rng.integers(8, 60))
        y = np.r_[1, 0, rng.integers(0, 2, n - 2)]
        s = np.round(rng.normal(size=(3, n)) + y, 1)  # rounding makes ties
        v10, v01 = structural_components(y, s)
        r = delong_many(y, s)
        direct = [_psi_direct(y, row) for row in s]
        for k, (d10, d01) in enumerate(direct):
            np.testing.assert_allclose(v10[k], d10, atol=1e-14)
            np.testing.assert_allclose(v01[k], d01, atol=1e-14)
            assert r.auc[k] == pytest.approx(roc_auc_score(y, s[k]), abs=1e-14)
        m, nn = int(y.sum()), int((1 - y).sum())
        s10 = np.array([[np.sum((a[0] - a[0].mean()) * (b[0] - b[0].mean())) / (m - 1) for b in direct] for a in direct])
        s01 = np.array([[np.sum((a[1] - a[1].mean()) * (b[1] - b[1].mean())) / (nn - 1) for b in direct] for a in direct])
        np.testing.assert_allclose(r.cov, s10 / m + s01 / nn, atol=1e-15)


def test_delong_edge_cases_and_errors():
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    same = delong_paired(y, s, s)
    assert (same.z, same.p_value, same.diff) == (0.0, 1.0, 0.0)
    with pytest.raises(StatsInputError, match="2 positives"):
        delong_many(np.array([0, 0, 1]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(StatsInputError, match="0/1"):
        delong_many(np.array([0, 2, 1, 1]), np.ones(4))
    with pytest.raises(StatsInputError, match="shape"):
        delong_many(y, np.ones(5))
    assert issubclass(StatsInputError, ImpactBenchError) and issubclass(StatsInputError, ValueError)


# --- weighted statistics and the paired bootstrap -----------------------------------------------------
def test_weighted_statistics_equal_sklearn_with_sample_weight():
    rng = np.random.default_rng(1)
    y = np.r_[1, 0, rng.integers(0, 2, 198)]
    s = np.round(rng.normal(size=200) + 0.8 * y, 1)
    counts = rng.integers(0, 3, size=(6, 200))
    counts[:, :2] = 1
    ones = np.ones((1, 200))
    assert weighted_auc(y, s, ones)[0] == pytest.approx(roc_auc_score(y, s), abs=1e-13)
    pa = partial_auc(0.1)
    assert pa(y, s, ones)[0] == pytest.approx(roc_auc_score(y, s, max_fpr=0.1), abs=1e-13)
    assert partial_auc(1.0)(y, s, ones)[0] == pytest.approx(roc_auc_score(y, s), abs=1e-13)
    d = (s > 0.3).astype(int)
    for w, auc, pauc, f1 in zip(counts, weighted_auc(y, s, counts), pa(y, s, counts), binary_f1(y, d, counts)):
        assert auc == pytest.approx(roc_auc_score(y, s, sample_weight=w), abs=1e-13)
        assert pauc == pytest.approx(roc_auc_score(y, s, sample_weight=w, max_fpr=0.1), abs=1e-13)
        assert f1 == pytest.approx(f1_score(y, d, sample_weight=w), abs=1e-13)
    dom = np.arange(200) % 2 == 0
    hm = harmonic_mean(on_subset(weighted_auc, dom), on_subset(weighted_auc, ~dom), pa)(y, s, ones)[0]
    parts = [roc_auc_score(y[dom], s[dom]), roc_auc_score(y[~dom], s[~dom]), roc_auc_score(y, s, max_fpr=0.1)]
    assert hm == pytest.approx(scipy.stats.hmean(parts), abs=1e-13)
    loop = per_resample(lambda yy, ss: float(roc_auc_score(yy, ss)))(y, s, counts)
    np.testing.assert_allclose(loop, weighted_auc(y, s, counts), atol=1e-13)


def _scorers(rng: np.random.Generator, n: int, gap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    y = np.r_[np.ones(n // 4, int), np.zeros(n - n // 4, int)]
    dom = rng.integers(0, 2, n)
    base = rng.normal(size=n)
    return y, dom, base + (1.0 + gap) * y + 0.5 * rng.normal(size=n), base + 1.0 * y + 0.5 * rng.normal(size=n)


def test_paired_bootstrap_vectorised_equals_loop_and_is_stratified():
    rng = np.random.default_rng(2)
    y, dom, a, b = _scorers(rng, 80, 0.3)
    fast = paired_bootstrap(y, dom, a, b, weighted_auc, n_boot=600, seed=5)
    slow = paired_bootstrap(y, dom, a, b, per_resample(lambda yy, ss: float(roc_auc_score(yy, ss))), n_boot=600, seed=5)
    np.testing.assert_allclose(fast.distribution, slow.distribution, atol=1e-13)
    assert (fast.n_boot, fast.seed, fast.distribution.shape) == (600, 5, (600,))
    assert fast.stat_a == pytest.approx(roc_auc_score(y, a)) and fast.observed == pytest.approx(fast.stat_a - fast.stat_b)
    again = paired_bootstrap(y, dom, a, b, weighted_auc, n_boot=600, seed=5)
    np.testing.assert_array_equal(again.distribution, fast.distribution)
    assert not np.array_equal(paired_bootstrap(y, dom, a, b, n_boot=600, seed=6).distribution, fast.distribution)
    seen = []  # every resample keeps the size of every (label, domain) stratum
    keys = y * 2 + dom

    def record(yy, ss, counts):
        seen.append(np.stack([counts[:, keys == k].sum(axis=1) for k in range(4)], axis=1))
        return np.zeros(counts.shape[0])
    paired_bootstrap(y, dom, a, b, record, n_boot=50, seed=0)
    assert (np.concatenate(seen) == np.bincount(keys, minlength=4)).all()


def test_paired_bootstrap_detects_a_real_difference_and_not_a_null_one():
    rng = np.random.default_rng(3)
    y, dom, a, b = _scorers(rng, 400, 1.0)
    r = paired_bootstrap(y, dom, a, b, partial_auc(0.1), n_boot=2000, seed=0)
    assert r.observed > 0 and r.ci_low > 0 and r.p_value < 0.01
    r0 = paired_bootstrap(y, dom, a, a + 1e-9 * rng.normal(size=a.size), weighted_auc, n_boot=500, seed=0)
    assert r0.ci_low <= 0 <= r0.ci_high and r0.p_value > 0.05


# --- macro-F1 and the cluster bootstrap ----------------------------------------------------------------
def test_macro_f1_matches_metrics_scores_and_sklearn():
    rng = np.random.default_rng(4)
    for _ in range(5):
        y, p = rng.integers(0, 4, 30), rng.integers(0, 4, 30)
        y[y == 3] = 0  # class 3 never true; sometimes never predicted either -> F1 0
        expected = scores(confusion(y, p, 5))["macro_f1"]
        assert macro_f1(y, p, 5) == pytest.approx(expected, abs=1e-15)
        assert macro_f1(y, p, 5) == pytest.approx(f1_score(y, p, labels=range(5), average="macro", zero_division=0))
    with pytest.raises(StatsInputError, match="integer labels"):
        macro_f1(np.array([0, 1]), np.array([0, 5]), 3)


def _splits(y: np.ndarray, seeds: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Stratified 20 % train / 80 % test splits, as the probe protocol."""
    out = []
    for _ in range(seeds):
        test = [rng.permutation(np.flatnonzero(y == c)) for c in range(y.max() + 1)]
        out.append(np.sort(np.concatenate([t[round(0.2 * t.size):] for t in test])))
    return out


def _encoder(y: np.ndarray, tests: list[np.ndarray], q: np.ndarray, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Per seed: each test clip predicted right with probability q[clip], else a uniform wrong class."""
    out = []
    for t in tests:
        p = y[t].copy()
        wrong = rng.random(t.size) > q[t]
        p[wrong] = (p[wrong] + rng.integers(1, k, wrong.sum())) % k
        out.append(p)
    return out


def _problem(rng: np.random.Generator, n: int, k: int, shift: float, seeds: int = 10):
    y = rng.integers(0, k, n)
    q = rng.beta(4, 1.5, n)  # clip difficulty shared by both encoders and all seeds
    tests = _splits(y, seeds, rng)
    return y, tests, _encoder(y, tests, np.clip(q + shift, 0, 1), k, rng), _encoder(y, tests, q, k, rng)


def test_cluster_bootstrap_vectorised_equals_reference_loop_exactly():
    rng = np.random.default_rng(5)
    y, tests, a, b = _problem(rng, 90, 4, 0.05, seeds=5)
    y[:3] = 3  # make class 3 rare: resamples can leave a seed without a true clip of it
    fast = cluster_bootstrap(y, tests, a, b, 4, n_boot=650, seed=11)  # two blocks of draws
    slow = cluster_bootstrap_reference(y, tests, a, b, 4, n_boot=650, seed=11)
    np.testing.assert_array_equal(fast.distribution, slow.distribution)
    assert (fast.observed, fast.ci_low, fast.ci_high, fast.p_value) == (slow.observed, slow.ci_low, slow.ci_high,
                                                                        slow.p_value)
    np.testing.assert_array_equal(fast.f1_a, [macro_f1(y[t], p, 4) for t, p in zip(tests, a)])
    assert fast.observed == pytest.approx(fast.f1_a.mean() - fast.f1_b.mean(), abs=1e-15)
    assert (fast.n_boot, fast.seed, fast.n_clips) == (650, 11, np.unique(np.concatenate(tests)).size)
    again = cluster_bootstrap(y, tests, a, b, 4, n_boot=650, seed=11)
    np.testing.assert_array_equal(again.distribution, fast.distribution)
    assert not np.array_equal(cluster_bootstrap(y, tests, a, b, 4, n_boot=650, seed=12).distribution, fast.distribution)


def test_cluster_bootstrap_pairwise_equals_each_pair():
    rng = np.random.default_rng(6)
    y, tests, a, b = _problem(rng, 120, 3, 0.1, seeds=4)
    c = _encoder(y, tests, np.full(y.size, 0.6), 3, rng)
    for levels in ("clips+seeds", "clips"):
        pw = cluster_bootstrap_pairwise(y, tests, [a, b, c], 3, n_boot=300, seed=1, levels=levels)
        for i, j, (u, v) in [(0, 1, (a, b)), (2, 0, (c, a)), (1, 2, (b, c))]:
            r = cluster_bootstrap(y, tests, u, v, 3, n_boot=300, seed=1, levels=levels)
            np.testing.assert_allclose(pw.differences[:, i, j], r.distribution, rtol=0, atol=1e-15)
            if levels == "clips":  # heads fixed: a pair's distribution is the difference of the encoders'
                np.testing.assert_allclose(pw.distribution[:, i] - pw.distribution[:, j], r.distribution, atol=1e-14)
            assert (pw.diff[i, j], pw.ci_low[i, j], pw.ci_high[i, j], pw.p_value[i, j]) == pytest.approx(
                (r.observed, r.ci_low, r.ci_high, r.p_value), abs=1e-15)
        assert (np.diag(pw.p_value) == 1).all() and np.allclose(pw.diff, -pw.diff.T)
        assert pw.levels == levels


def test_two_level_head_component_by_hand():
    """The seed level: centred per-seed values shrunk to the head variance left after the clip-level spread."""
    from impact_bench.stats._levels import head_variance, seed_component

    rng = np.random.default_rng(3)
    S, m = 6, 4000
    obs = np.array([0.60, 0.64, 0.58, 0.70, 0.61, 0.67])
    boot = obs + 0.01 * rng.standard_normal((m, S))  # clip-level spread: W ≈ 1e-4, much below V
    w = rng.multinomial(S, np.full(S, 1 / S), size=m).astype(float)
    v = obs.var(ddof=1)
    within = boot.var(axis=1, ddof=1).mean() - boot.mean(axis=0).var(ddof=1)
    assert head_variance(obs, boot) == pytest.approx(v - within, rel=1e-12)
    lam = math.sqrt((v - within) * S / ((S - 1) * v))
    h = seed_component(obs, boot, w)
    np.testing.assert_allclose(h, (w * lam * (obs - obs.mean())).sum(axis=1) / S, rtol=1e-12)
    assert h.var() == pytest.approx((v - within) / S, rel=0.1)  # Var(H*) = σ_h² / S
    flat = np.full(S, 0.6) + 0.001 * np.arange(S)  # spread below the clip-level noise: no head component
    assert np.all(seed_component(flat, flat + 0.05 * rng.standard_normal((m, S)), w) == 0)
    with pytest.raises(StatsInputError, match="levels"):
        cluster_bootstrap(np.array([0, 1, 0, 1]), [np.array([0, 1, 2, 3])], [np.array([0, 1, 0, 1])],
                          [np.array([0, 1, 0, 1])], 2, n_boot=10, levels="seeds")


def test_cluster_bootstrap_p_value_definition():
    rng = np.random.default_rng(7)
    y, tests, a, b = _problem(rng, 100, 3, 0.02, seeds=3)
    r = cluster_bootstrap(y, tests, a, b, 3, n_boot=400, seed=0)
    d = r.distribution
    assert r.p_value == min(1.0, 2 * min(np.mean(d <= 0), np.mean(d >= 0)))
    assert (r.ci_low, r.ci_high) == tuple(np.quantile(d, [0.025, 0.975]))
    same = cluster_bootstrap(y, tests, a, a, 3, n_boot=50, seed=0)
    assert same.p_value == 1.0 and same.observed == 0.0


def test_cluster_bootstrap_input_errors():
    y = np.array([0, 1, 0, 1, 0, 1])
    t = [np.array([0, 1, 2]), np.array([3, 4, 5])]
    p = [np.array([0, 1, 0]), np.array([1, 0, 1])]
    with pytest.raises(StatsInputError, match="2 seeds"):
        cluster_bootstrap(y, t, p[:1], p, 2, n_boot=10)
    with pytest.raises(StatsInputError, match="do not match"):
        cluster_bootstrap(y, t, [p[0], p[1][:2]], p, 2, n_boot=10)
    with pytest.raises(StatsInputError, match="distinct"):
        cluster_bootstrap(y, [np.array([0, 0, 1]), t[1]], p, p, 2, n_boot=10)
    with pytest.raises(StatsInputError, match="alpha"):
        cluster_bootstrap(y, t, p, p, 2, n_boot=10, alpha=1.5)
    with pytest.raises(StatsInputError, match="n_boot"):
        cluster_bootstrap(y, t, p, p, 2, n_boot=0)


def _null_p_values(reps: int, n: int, n_boot: int, levels: str = "clips+seeds") -> np.ndarray:
    rng = np.random.default_rng(8)
    return np.array([cluster_bootstrap(*_problem(rng, n, 3, 0.0), 3, n_boot=n_boot, seed=r, levels=levels).p_value
                     for r in range(reps)])


def _binomial_band(reps: int, alpha: float) -> tuple[float, float]:
    """Central 99.8 % range of the rejection count of a calibrated test, as a rate."""
    return scipy.stats.binom.ppf(0.001, reps, alpha) / reps, scipy.stats.binom.ppf(0.999, reps, alpha) / reps


def test_cluster_bootstrap_null_false_positive_rate():
    """Two encoders from the same noisy process (same clip difficulties, independent errors)."""
    p = _null_p_values(250, 150, 500)
    lo, hi = _binomial_band(250, 0.05)
    assert lo <= np.mean(p < 0.05) <= hi


@pytest.mark.slow
@pytest.mark.parametrize("levels", ["clips+seeds", "clips"])
def test_cluster_bootstrap_null_false_positive_rate_large(levels):
    p = _null_p_values(1500, 150, 1000, levels)
    for alpha in (0.05, 0.10):
        lo, hi = _binomial_band(1500, alpha)
        assert lo <= np.mean(p < alpha) <= hi, (alpha, np.mean(p < alpha))


def test_cluster_bootstrap_detects_a_real_difference():
    rng = np.random.default_rng(9)  # A right on 5 % more of the clips: 0.05 higher accuracy per clip
    p = np.array([cluster_bootstrap(*_problem(rng, 300, 3, 0.05), 3, n_boot=500, seed=r).p_value for r in range(30)])
    assert np.mean(p < 0.05) >= 0.8


# --- t-tests and Wilcoxon ----------------------------------------------------------------------------------
DIFFS = [0.012, 0.018, -0.004, 0.021, 0.009, 0.015, 0.003, 0.011, 0.019, 0.007]


def test_corrected_resampled_ttest_by_hand():
    k, mean, var = len(DIFFS), statistics.fmean(DIFFS), statistics.variance(DIFFS)
    t = mean / math.sqrt((1 / k + 80 / 20) * var)  # Nadeau & Bengio (2003): n_test/n_train = 4 for 20/80
    r = corrected_resampled_ttest(np.array(DIFFS), n_train=20, n_test=80)
    assert (r.t, r.df) == (pytest.approx(t, rel=1e-12), 9)
    assert r.p_value == pytest.approx(2 * scipy.stats.t.sf(abs(t), 9), rel=1e-12)
    half = scipy.stats.t.ppf(0.975, 9) * math.sqrt((1 / k + 4) * var)
    assert (r.ci_low, r.ci_high) == (pytest.approx(mean - half), pytest.approx(mean + half))
    naive = paired_ttest(np.array(DIFFS))
    assert naive.t / r.t == pytest.approx(math.sqrt(41))  # variance inflated 41x at k = 10


def test_paired_ttest_and_wilcoxon_match_scipy():
    rng = np.random.default_rng(10)
    a = rng.normal(0.8, 0.02, 10)
    b = a - rng.normal(0.005, 0.01, 10)
    r, ref = paired_ttest(a - b), scipy.stats.ttest_rel(a, b)
    assert (r.t, r.p_value) == (pytest.approx(ref.statistic, rel=1e-12), pytest.approx(ref.pvalue, rel=1e-12))
    ci = scipy.stats.ttest_1samp(a - b, 0.0).confidence_interval(0.95)
    assert (r.ci_low, r.ci_high) == (pytest.approx(ci.low, rel=1e-12), pytest.approx(ci.high, rel=1e-12))
    w, wref = wilcoxon(a - b), scipy.stats.wilcoxon(a - b)
    assert (w.statistic, w.p_value, w.n_nonzero) == (wref.statistic, wref.pvalue, 10)
    zeros = wilcoxon(np.zeros(10))
    assert (zeros.p_value, zeros.n_nonzero) == (1.0, 0) and "zero" in zeros.note
    some = np.array([0.0, 0.01, -0.02, 0.03, 0.0, 0.015, 0.02, 0.025])
    assert wilcoxon(some).p_value == pytest.approx(scipy.stats.wilcoxon(some).pvalue) and wilcoxon(some).n_nonzero == 6
    flat = paired_ttest(np.zeros(5))
    assert (flat.t, flat.p_value) == (0.0, 1.0)
    with pytest.raises(StatsInputError, match="at least 2"):
        paired_ttest(np.array([0.1]))


# --- multiple comparisons and tie groups ----------------------------------------------------------------
def test_adjust_matches_statsmodels_and_holm_1979_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # Holm step-down at 0.05: sorted 0.005 <= 0.05/4 reject, 0.01 <= 0.05/3 reject, 0.03 > 0.05/2 stop.
    # Adjusted: running max of (4*0.005, 3*0.01, 2*0.03, 1*0.04) = (0.02, 0.03, 0.06, 0.06), in input order:
    np.testing.assert_allclose(adjust(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    assert list(adjust(p, "holm") < 0.05) == [True, False, False, True]
    # BH: running min from the top of (4*0.005/1, 4*0.01/2, 4*0.03/3, 4*0.04/4) = (0.02, 0.02, 0.04, 0.04):
    np.testing.assert_allclose(adjust(p, "fdr_bh"), [0.02, 0.04, 0.04, 0.02])
    rng = np.random.default_rng(11)
    q = rng.uniform(0, 0.2, 25)
    for method in ("holm", "fdr_bh"):
        np.testing.assert_allclose(adjust(q, method), multipletests(q, method=method)[1], rtol=0, atol=0)
    assert adjust(np.array([]), "holm").size == 0
    with pytest.raises(StatsInputError, match="method"):
        adjust(p, "bonferroni")
    with pytest.raises(StatsInputError, match=r"\[0, 1\]"):
        adjust(np.array([0.1, 1.2]))


def _sym(k: int, entries: dict[tuple[int, int], float]) -> np.ndarray:
    p = np.ones((k, k))
    for (i, j), v in entries.items():
        p[i, j] = p[j, i] = v
    return p


def test_tie_groups_hand_cases():
    means = np.array([0.90, 0.85, 0.70, 0.50])
    p = _sym(4, {(0, 1): 0.30, (0, 2): 0.001, (0, 3): 0.0001, (1, 2): 0.01, (1, 3): 0.001, (2, 3): 0.20})
    assert tie_groups(means, p) == [1, 1, 2, 2]
    # chain: C is tied with B but not with the best A -> C is not rank 1
    assert tie_groups(np.array([0.9, 0.8, 0.7]), _sym(3, {(0, 1): 0.2, (0, 2): 0.01, (1, 2): 0.5})) == [1, 1, 2]
    # Holm over the comparisons with the best: raw 0.03 and 0.04 -> adjusted 0.06, 0.06 -> all tied;
    # BH -> 0.04, 0.04 -> both differ from the best, then tie with each other
    p3 = _sym(3, {(0, 1): 0.03, (0, 2): 0.04, (1, 2): 0.5})
    assert tie_groups(np.array([0.9, 0.8, 0.7]), p3, method="holm") == [1, 1, 1]
    assert tie_groups(np.array([0.9, 0.8, 0.7]), p3, method="fdr_bh") == [1, 2, 2]
    perm = np.array([2, 0, 3, 1])  # ranks follow the encoders, not the input order
    assert tie_groups(means[perm], p[np.ix_(perm, perm)]) == [[1, 1, 2, 2][i] for i in perm]
    assert tie_groups(np.array([0.5]), np.ones((1, 1))) == [1]
    assert tie_groups(np.array([0.6, 0.5, 0.4]), _sym(3, {(0, 1): 0.001, (0, 2): 0.001, (1, 2): 0.001})) == [1, 2, 3]
    with pytest.raises(StatsInputError, match="symmetric"):
        tie_groups(means, np.triu(p))
    with pytest.raises(StatsInputError, match="shape"):
        tie_groups(means, p[:3, :3])
