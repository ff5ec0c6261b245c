"""Speed and memory of the newer back ends (``anomaly/backends_extra.py``) on one DCASE-shaped section
scaled up: 10,000 test clips against a 10,000-clip training bank (9,900 source + 100 target), 768-d.

Each back end's ``score_section`` (test scores + the training clips' own scores for the threshold) is
timed against a straightforward scikit-learn/NumPy implementation that returns the same two vectors,
measured in the same run; the outputs must agree. Asserts: every back end not slower than its
reference (≥ 0.9×: the 10 % a shared 2-core machine's timing noise needs where both sides spend nearly
all their time in the same scikit-learn call, ``KMeans`` for knn-kmeans), the Mahalanobis detector
≥ 3× faster than refitting scikit-learn's ``EmpiricalCovariance`` per call. Peak memory: a child process per size
scores 2,500 and 10,000 test clips; the growth of its peak RSS (VmHWM) over the inputs must stay under
64 MiB.

Size: ``IMPACT_BENCH_BACKEND_N`` (default 10000) sets both the bank and the test-clip count; each side of
the not-slower comparisons is timed ``IMPACT_BENCH_BACKEND_ROUNDS`` times (default 2; 5 where the reference
call takes under 5 s), best of each.

    pytest benchmarks/test_backend_speed.py --benchmark-only -s
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.covariance import EmpiricalCovariance, LedoitWolf
from sklearn.metrics import pairwise_distances_chunked
from sklearn.neighbors import NearestNeighbors

from impact_bench.anomaly.backends import BackendConfig, score_section
from impact_bench.anomaly.backends_extra import Gaussian, smote_bank

N = int(os.environ.get("IMPACT_BENCH_BACKEND_N", "10000"))
ROUNDS = int(os.environ.get("IMPACT_BENCH_BACKEND_ROUNDS", "2"))  # best of: a shared machine's timings jitter
N_TARGET, DIM = max(10, N // 100), 768
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def section():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((64, DIM)).astype(np.float32)  # low-rank structure + noise, like embeddings
    def draw(n, shift):
        return (rng.standard_normal((n, 64)).astype(np.float32) @ base + shift
                + 0.5 * rng.standard_normal((n, DIM)).astype(np.float32)).astype(np.float32)
    train = np.concatenate([draw(N - N_TARGET, 0.3), draw(N_TARGET, -0.3)])
    domain = np.r_[np.zeros(N - N_TARGET, int), np.ones(N_TARGET, int)]
    return train, domain, draw(N, 0.0)


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _nn_scores(bank, test, n_own, metric="cosine"):
    """Test scores and leave-one-out scores of the bank's first ``n_own`` rows, 1-NN, scikit-learn brute."""
    nn = NearestNeighbors(n_neighbors=1, metric=metric, algorithm="brute").fit(bank)
    loo = nn.kneighbors(None, 1)[0][:n_own, 0]
    return nn.kneighbors(test)[0][:, 0], loo


def ref_mahalanobis(train, dom, test):
    """LedoitWolf per domain, then the quadratic form with its ``precision_`` in NumPy (float64 matmul,
    faster than ``LedoitWolf.mahalanobis``'s row-by-row ``pairwise_distances``)."""
    s_test, s_train = [], []
    for d in (0, 1):
        model = LedoitWolf().fit(train[dom == d].astype(np.float64))
        for x, out in ((test, s_test), (train, s_train)):
            delta = x.astype(np.float64) - model.location_
            out.append(((delta @ model.precision_) * delta).sum(1))
    return np.min(s_test, 0), np.min(s_train, 0)


def ref_knn_kmeans(train, dom, test):
    src, tgt = _unit(train[dom == 0]), train[dom == 1]
    centres = KMeans(16, n_init="auto", random_state=0).fit(src).cluster_centers_.astype(np.float32)
    nn = NearestNeighbors(n_neighbors=1, metric="cosine", algorithm="brute").fit(centres)
    t_test, t_loo = _nn_scores(tgt, test, len(tgt))
    t_train = NearestNeighbors(n_neighbors=1, metric="cosine", algorithm="brute").fit(tgt).kneighbors(train)[0][:, 0]
    t_train[dom == 1] = t_loo
    return np.minimum(nn.kneighbors(test)[0][:, 0], t_test), np.minimum(nn.kneighbors(train)[0][:, 0], t_train)


def ref_knn_smote(train, dom, test):
    src, tgt = _unit(train[dom == 0]), _unit(train[dom == 1])
    aug = _unit(smote_bank(tgt, src, 0.2, 2, 0))  # the SMOTE step itself is imbalanced-learn in both
    out_test, out_train = [], []
    for bank, rows in ((src, dom == 0), (aug, dom == 1)):
        s_test, loo = _nn_scores(bank, test, int(rows.sum()))
        s_train = NearestNeighbors(n_neighbors=1, metric="cosine", algorithm="brute").fit(bank).kneighbors(train)[0][:, 0]
        s_train[rows] = loo
        out_test.append(s_test)
        out_train.append(s_train)
    return np.min(out_test, 0), np.min(out_train, 0)


def _ref_mixed(train, test, metric, k_ref):
    """One mixed bank, distances divided by each reference's mean distance to its k_ref neighbours."""
    nn = NearestNeighbors(n_neighbors=k_ref, metric=metric, algorithm="brute").fit(train)
    c = nn.kneighbors(None)[0].mean(1)
    s_test = np.concatenate([np.min(d / c, 1) for d in pairwise_distances_chunked(test, train, metric=metric,
                                                                                 working_memory=256)])
    s_train, row = [], 0
    for d in pairwise_distances_chunked(train, train, metric=metric, working_memory=256):
        r = d / c
        r[np.arange(len(d)), np.arange(row, row + len(d))] = np.inf
        s_train.append(r.min(1))
        row += len(d)
    return s_test, np.concatenate(s_train)


def ref_knn_rescale(train, dom, test):
    return _ref_mixed(_unit(train), _unit(test), "euclidean", 4)


def ref_local_density(train, dom, test):
    return _ref_mixed(train, test, "cosine", 1)


CASES = {
    "mahalanobis": (ref_mahalanobis, {}),
    "knn-kmeans": (ref_knn_kmeans, {}),
    "knn-smote": (ref_knn_smote, {}),
    "knn-rescale": (ref_knn_rescale, {}),
    "local-density": (ref_local_density, {}),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.benchmark(group="backends")
def test_backend_not_slower_than_reference(benchmark, section, name):
    train, dom, test = section
    ref_fn, opts = CASES[name]
    ref_times: list[float] = []
    rounds = ROUNDS
    while len(ref_times) < rounds:
        t0 = time.perf_counter()
        ref_test, ref_train = ref_fn(train, dom, test)
        ref_times.append(time.perf_counter() - t0)
        if ref_times[0] < 5.0:  # a call of a few seconds: other processes' bursts dominate, take more rounds
            rounds = max(ROUNDS, 5)
    ref_s = min(ref_times)
    cfg = BackendConfig(name=name, **opts)
    ours_test, ours_train = benchmark.pedantic(lambda: score_section(cfg, train, test, dom), rounds=rounds,
                                               iterations=1)
    ours_s = benchmark.stats.stats.min
    np.testing.assert_allclose(ours_test, ref_test, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours_train, ref_train, rtol=1e-4, atol=1e-5)
    TIMES[name] = ours_s
    print(f"\n{name} {N} test x {N} bank x {DIM}: reference {ref_s:.2f} s, ours {ours_s:.2f} s "
          f"= {ref_s / ours_s:.2f}x")
    assert ref_s / ours_s >= 0.9


@pytest.mark.benchmark(group="backends")
def test_mahalanobis_vs_refitting_empirical_covariance(benchmark, section):
    """One call = fit both domains' detectors, score the test clips, min — sklearn refits per call."""
    train, dom, test = section
    t0 = time.perf_counter()
    ref = np.min([EmpiricalCovariance().fit(train[dom == d]).mahalanobis(test) for d in (0, 1)], 0)
    ref_s = time.perf_counter() - t0

    def ours():
        return np.min([Gaussian(train[dom == d], "ledoit-wolf", "bench").score(test) for d in (0, 1)], 0)
    out = benchmark.pedantic(ours, rounds=1, iterations=1)
    ours_s = benchmark.stats.stats.median
    assert out.shape == ref.shape and np.isfinite(out).all()
    print(f"\nmahalanobis (ledoit-wolf fit + whitening + scoring) {ours_s:.2f} s vs sklearn EmpiricalCovariance "
          f"refit + mahalanobis {ref_s:.2f} s = {ref_s / ours_s:.2f}x")
    assert ref_s / ours_s >= 3.0


# VmHWM, not ru_maxrss: Linux carries a forked parent's peak into the child's ru_maxrss across exec
CHILD = """
import re, sys
import numpy as np
from impact_bench.anomaly.backends import BackendConfig, score_section
n_test = int(sys.argv[1]); rng = np.random.default_rng(0)
train = rng.standard_normal((10000, 768), dtype=np.float32); test = rng.standard_normal((n_test, 768), dtype=np.float32)
dom = np.r_[np.zeros(9900, int), np.ones(100, int)]
for name in ("mahalanobis", "knn-kmeans", "knn-smote", "knn-rescale", "local-density"):
    score_section(BackendConfig(name=name), train, test, dom)
hwm = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
print(hwm, train.nbytes + test.nbytes)
"""


@pytest.mark.benchmark(group="backends-memory")
def test_peak_memory_flat_in_test_clips(benchmark):
    peaks = {}

    def run_sizes():
        for n_test in (2500, 10000):
            out = subprocess.run([sys.executable, "-c", CHILD, str(n_test)], capture_output=True, text=True,
                                 check=True).stdout.split()
            peaks[n_test] = (int(out[0]) / 1024, int(out[1]) / 2**20)
    benchmark.pedantic(run_sizes, rounds=1, iterations=1)
    (small, in_small), (large, in_large) = peaks[2500], peaks[10000]
    growth = (large - in_large) - (small - in_small)
    print(f"\npeak RSS 2,500 test clips {small:.0f} MiB, 10,000 {large:.0f} MiB; inputs {in_small:.0f} / "
          f"{in_large:.0f} MiB; growth beyond the inputs {growth:.0f} MiB")
    assert growth < 64
