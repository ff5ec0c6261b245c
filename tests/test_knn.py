"""KNN exactness against scikit-learn brute force; back ends and the source/target min rule."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from impact_bench.anomaly.backends import BackendConfig, Detector, score_section
from impact_bench.anomaly.knn import knn_distances
from impact_bench.anomaly.metrics import auc
from impact_bench.errors import DataError


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_chunked_knn_equals_sklearn_brute(metric):
    rng = np.random.default_rng(0)
    bank, queries = rng.standard_normal((500, 32)).astype(np.float32), rng.standard_normal((130, 32)).astype(np.float32)
    ref = NearestNeighbors(n_neighbors=3, metric=metric, algorithm="brute").fit(bank).kneighbors(queries)[0]
    np.testing.assert_allclose(knn_distances(bank, queries, 3, metric, chunk=64), ref, rtol=1e-5, atol=1e-5)
    loo = NearestNeighbors(n_neighbors=4, metric=metric, algorithm="brute").fit(bank).kneighbors(bank)[0][:, 1:]
    np.testing.assert_allclose(knn_distances(bank, bank, 3, metric, chunk=64, exclude_self=True), loo,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k", [1, 3])
def test_bf16_screen_is_exact_including_near_ties(k):
    rng = np.random.default_rng(5)
    centre = rng.standard_normal(64)
    bank = (centre + 0.01 * rng.standard_normal((300, 64))).astype(np.float32)  # cosine sims within ~1e-4
    bank[:100] = rng.standard_normal((100, 64))                                 # and well-separated rows
    queries = np.vstack([bank[:20] + 0.3 * rng.standard_normal((20, 64)), centre[None] + 0.01 * rng.standard_normal((20, 64))])
    ref = knn_distances(bank, queries, k, chunk=64, screen="off")
    # same neighbours (near-tie rows differ by ~1e-4), values equal up to fp32 summation order
    np.testing.assert_allclose(knn_distances(bank, queries, k, chunk=64, screen="bf16"), ref, rtol=0, atol=1e-6)
    sk = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(bank).kneighbors(queries)[0]
    np.testing.assert_allclose(ref, sk, rtol=1e-5, atol=1e-5)


def test_knn_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same D"):
        knn_distances(np.zeros((4, 3)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="at least 2 other clips"):
        knn_distances(np.ones((2, 3)), np.ones((2, 3)), k=2, exclude_self=True)


def _domains(rng, n, centre):
    return centre + 0.05 * rng.standard_normal((n, len(centre)))


def test_source_target_min_rule_rescues_target_normals():
    rng = np.random.default_rng(1)
    a, b, c = (np.eye(16)[i] * 3 + 1 for i in range(3))
    train = np.vstack([_domains(rng, 40, a), _domains(rng, 5, b)])
    train_domain = np.array([0] * 40 + [1] * 5)
    test = np.vstack([_domains(rng, 10, a), _domains(rng, 10, b), _domains(rng, 10, c)])
    y = np.array([0] * 20 + [1] * 10)
    for name in ("knn", "kmeans", "lof", "gmm"):
        s_test, s_train = score_section(BackendConfig(name=name), train, test, train_domain)
        assert auc(y, s_test) == 1.0, name
        assert s_train.shape == (45,) and np.isfinite(s_train).all()
    source_only, _ = score_section(BackendConfig(), train[:40], test)
    with_min, _ = score_section(BackendConfig(), train, test, train_domain)
    target_normals, anomalies = slice(10, 20), slice(20, 30)  # B and C are equally far from A
    assert source_only[target_normals].mean() > 0.9 * source_only[anomalies].mean()
    assert with_min[target_normals].mean() < 0.1 * with_min[anomalies].mean()


def test_normalisations():
    rng = np.random.default_rng(2)
    train, test = rng.standard_normal((60, 8)), rng.standard_normal((25, 8))
    s_test, _ = score_section(BackendConfig(normalise="test-z"), train, test)
    assert abs(s_test.mean()) < 1e-9 and abs(s_test.std() - 1) < 1e-9
    det = Detector(BackendConfig(), train)
    loo = det.self_scores()
    assert (loo > 0).all()  # no clip is its own neighbour
    s_test, s_train = score_section(BackendConfig(normalise="train-loo"), train, test)
    np.testing.assert_allclose(s_train, (loo - loo.mean()) / loo.std())
    assert BackendConfig(normalise="test-z").transductive and not BackendConfig(normalise="train-loo").transductive
    with pytest.raises(DataError, match="normalisation must be one of"):
        BackendConfig(normalise="zscore")
    with pytest.raises(DataError, match="no training clips"):
        score_section(BackendConfig(), train[:0], test)


def test_screen_option_is_choosable_recorded_and_exact():
    """Issue 17 item 10: the bf16 screen is an option (on / off / auto) and the results record what decided it."""
    from impact_bench.anomaly.knn import SCREEN_MIN_BANK, bf16_is_fast, screen_record

    rng = np.random.default_rng(3)
    bank, test = rng.normal(size=(300, 32)).astype(np.float32), rng.normal(size=(50, 32)).astype(np.float32)
    on, off = (Detector(BackendConfig(k=3, screen=s), bank) for s in ("on", "off"))
    np.testing.assert_allclose(on.score(test), off.score(test), rtol=0, atol=1e-6)  # same neighbours, same sums
    nn = NearestNeighbors(n_neighbors=3, metric="cosine").fit(bank)
    np.testing.assert_allclose(off.score(test), nn.kneighbors(test)[0].mean(1), atol=1e-5)
    with pytest.raises(DataError, match="screen must be one of"):
        BackendConfig(screen="sometimes")
    assert screen_record("auto", "cosine") == {"screen": "auto", "min_bank_rows": SCREEN_MIN_BANK,
                                               "bf16_fast": bf16_is_fast()}
    assert screen_record("off", "cosine") == {"screen": "off", "min_bank_rows": None, "bf16_fast": None}
