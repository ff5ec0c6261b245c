"""KNN scoring speed: 10k queries against a 100k × 768 bank (a DCASE-sized source bank × test set
pooled over many sections), ours (chunked torch matmul + running min) vs scikit-learn
``NearestNeighbors(metric="cosine", algorithm="brute")`` — the reference in the same run.
Asserts identical distances (1e-5) and a ≥ 3× speed-up; memory is bounded by ``chunk``.
"""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from impact_bench.anomaly.knn import knn_distances

BANK, QUERIES, DIM = 100_000, 10_000, 768
RESULTS: dict[str, object] = {}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((BANK, DIM), dtype=np.float32),
            rng.standard_normal((QUERIES, DIM), dtype=np.float32))


@pytest.mark.benchmark(group="knn")
def test_knn_sklearn_reference(benchmark, data):
    bank, queries = data
    nn = NearestNeighbors(n_neighbors=1, metric="cosine", algorithm="brute").fit(bank)
    out = benchmark.pedantic(lambda: nn.kneighbors(queries)[0], rounds=1, iterations=1)
    RESULTS["sklearn"] = (benchmark.stats.stats.median, out[:, 0])


@pytest.mark.benchmark(group="knn")
def test_knn_ours(benchmark, data):
    if "sklearn" not in RESULTS:
        pytest.skip("needs test_knn_sklearn_reference first")
    bank, queries = data
    out = benchmark.pedantic(lambda: knn_distances(bank, queries, 1, "cosine"), rounds=3, iterations=1)
    ref_s, ref = RESULTS["sklearn"]
    np.testing.assert_allclose(out[:, 0], ref, rtol=1e-5, atol=1e-5)
    speedup = ref_s / benchmark.stats.stats.median
    print(f"\nKNN 10k x 100k x 768 cosine: sklearn {ref_s:.2f} s, ours {benchmark.stats.stats.median:.2f} s "
          f"= {speedup:.2f}x")
    assert speedup >= 3.0
