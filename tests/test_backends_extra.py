"""The newer back ends (mahalanobis, knn-kmeans, knn-smote, knn-rescale, local-density): each against a
direct computation from its definition, and against the public code that defines it (golden files from
scripts/golden/asdkit_backends.py and scripts/golden/mahalanobis_baseline.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.covariance import OAS, LedoitWolf

from impact_bench.anomaly.backends import BACKENDS, BackendConfig, Detector, score_section
from impact_bench.anomaly.knn import knn_distances
from impact_bench.errors import DataError
from impact_bench.suites.spec import BackendSpec

DATA = Path(__file__).parent / "data"
NEW = ("mahalanobis", "knn-kmeans", "knn-smote", "knn-rescale", "local-density")


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def clips():
    rng = np.random.default_rng(7)
    src = rng.standard_normal((120, 10)) + 0.5
    tgt = rng.standard_normal((12, 10)) - 0.5
    test = rng.standard_normal((30, 10))
    train = np.concatenate([src, tgt]).astype(np.float32)
    return train, np.r_[np.zeros(120, int), np.ones(12, int)], test.astype(np.float32)


# --- direct computations from each definition -------------------------------------------------------

@pytest.mark.parametrize("cov, est", [("ledoit-wolf", LedoitWolf), ("oas", OAS)])
def test_mahalanobis_is_min_over_domains_of_sklearn_estimator(clips, cov, est):
    train, dom, test = clips
    got, got_train = score_section(BackendConfig(name="mahalanobis", cov=cov), train, test, dom)
    per = [est().fit(train[dom == d].astype(np.float64)).mahalanobis(test.astype(np.float64)) for d in (0, 1)]
    np.testing.assert_allclose(got, np.min(per, 0), rtol=1e-6)
    per_train = [est().fit(train[dom == d].astype(np.float64)).mahalanobis(train.astype(np.float64)) for d in (0, 1)]
    np.testing.assert_allclose(got_train, np.min(per_train, 0), rtol=1e-6)  # in-sample threshold scores


def test_mahalanobis_empirical_is_unbiased_covariance_and_needs_more_clips_than_dims(clips):
    train, dom, test = clips
    rng = np.random.default_rng(1)
    tgt = rng.standard_normal((30, 10)).astype(np.float32)
    tr = np.concatenate([train[dom == 0], tgt])
    d2 = np.r_[np.zeros(120, int), np.ones(30, int)]
    got = score_section(BackendConfig(name="mahalanobis", cov="empirical"), tr, test, d2)[0]
    ref = []
    for d in (0, 1):
        b = tr[d2 == d].astype(np.float64)
        p = np.linalg.inv(np.cov(b, rowvar=False, ddof=1))
        delta = test - b.mean(0)
        ref.append(np.einsum("nd,de,ne->n", delta, p, delta))
    np.testing.assert_allclose(got, np.min(ref, 0), rtol=1e-6)
    with pytest.raises(DataError, match=r"target training clips.*singular.*cov=ledoit-wolf"):
        wide = np.concatenate([train, rng.standard_normal(train.shape).astype(np.float32)], 1)  # 20-d, 12 target
        score_section(BackendConfig(name="mahalanobis", cov="empirical"), wide, np.concatenate([test, test], 1), dom)


def test_knn_kmeans_keeps_every_target_clip_as_a_centre(clips):
    train, dom, test = clips
    cfg = BackendConfig(name="knn-kmeans", n_clusters=4)
    got = score_section(cfg, train, test, dom)[0]
    src = _unit(train[dom == 0])
    centres = KMeans(4, n_init="auto", random_state=0).fit(src).cluster_centers_
    bank = np.concatenate([_unit(centres), _unit(train[dom == 1])])  # 4 + 12 centres
    ref = (1 - _unit(test.astype(np.float64)) @ bank.T).min(1)
    np.testing.assert_allclose(got, ref, atol=2e-6)
    det = Detector(cfg, train[dom == 0], role="source")
    assert det.centres.shape == (4, 10)
    assert Detector(cfg, train[dom == 1], role="target").kind == "knn"  # no clustering of the target clips


def test_knn_smote_synthesises_on_segments_to_target_neighbours(clips):
    train, dom, test = clips
    cfg = BackendConfig(name="knn-smote", smote_ratio=0.25, smote_neighbors=2, metric="euclidean")
    det = Detector(cfg, train[dom == 1], role="target", majority=train[dom == 0])
    tgt = train[dom == 1].astype(np.float64)
    n_new = int(120 * 0.25) - 12
    assert len(det.bank) == 12 + n_new and np.array_equal(det.bank[:12], train[dom == 1])
    dists = ((tgt[:, None] - tgt[None]) ** 2).sum(-1)
    nn = np.argsort(dists, 1)[:, 1:3]  # each clip's 2 nearest other target clips
    for s in det.bank[12:].astype(np.float64):
        ok = False
        for i in range(12):
            for j in nn[i]:
                seg = tgt[j] - tgt[i]
                u = float((s - tgt[i]) @ seg / (seg @ seg))
                ok |= -1e-6 <= u <= 1 + 1e-6 and np.allclose(tgt[i] + u * seg, s, atol=1e-4)
        assert ok, "a synthetic clip off every segment between a target clip and its 2 nearest neighbours"
    got = score_section(cfg, train, test, dom)[0]
    ref = np.minimum(knn_distances(train[dom == 0], test, 1, "euclidean")[:, 0],
                     np.sqrt(((test[:, None].astype(np.float64) - det.bank[None]) ** 2).sum(-1)).min(1))
    np.testing.assert_allclose(got, ref, rtol=1e-5)
    # target already ≥ ratio × source: nothing to synthesise, the back end is plain knn
    few = BackendConfig(name="knn-smote", smote_ratio=0.05)
    np.testing.assert_array_equal(score_section(few, train, test, dom)[0],
                                  score_section(BackendConfig(name="knn"), train, test, dom)[0])


def _density(bank, queries, k, k_ref, dist, mode, loo=False):
    d_bb = dist(bank, bank)
    c = np.sort(d_bb, 0)[1:k_ref + 1].mean(0)
    d = dist(queries, bank)
    d = d / c if mode == "ratio" else d - c
    if loo:
        np.fill_diagonal(d, np.inf)
    return np.sort(d, 1)[:, :k].mean(1)


def _chord(a, b):
    a, b = _unit(a.astype(np.float64)), _unit(b.astype(np.float64))
    return np.sqrt(np.maximum(((a[:, None] - b[None]) ** 2).sum(-1), 0))


def _cos(a, b):
    return 1 - _unit(a.astype(np.float64)) @ _unit(b.astype(np.float64)).T


@pytest.mark.parametrize("k, k_ref", [(1, None), (3, 2)])
def test_knn_rescale_is_ratio_to_local_density_on_one_mixed_bank(clips, k, k_ref):
    train, dom, test = clips
    cfg = BackendConfig(name="knn-rescale", k=k, k_ref=k_ref)
    assert cfg.k_ref == (k_ref or 4)
    got, got_train = score_section(cfg, train, test, dom)
    np.testing.assert_allclose(got, _density(train, test, k, cfg.k_ref, _chord, "ratio"), rtol=1e-4)
    np.testing.assert_allclose(got_train, _density(train, train, k, cfg.k_ref, _chord, "ratio", loo=True),
                               rtol=1e-4)  # threshold scores leave each clip out
    np.testing.assert_array_equal(got, score_section(cfg, train, test, None)[0])  # domains are not used


@pytest.mark.parametrize("mode", ["ratio", "difference"])
def test_local_density_follows_its_definition(clips, mode):
    train, dom, test = clips
    cfg = BackendConfig(name="local-density", density=mode)
    assert cfg.k_ref == 1
    got = score_section(cfg, train, test, dom)[0]
    np.testing.assert_allclose(got, _density(train, test, 1, 1, _cos, mode), rtol=1e-4, atol=1e-6)


# --- golden values from the public code ------------------------------------------------------------

def _golden(name):
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path.name} absent (scripts/golden/ writes it)")
    return np.load(path)


def test_asdkit_and_merl_golden():
    g = _golden("asdkit_backends_golden.npz")
    tr, dom, te = g["train"], g["domain"], g["test"]

    def ours(**kw):
        return score_section(BackendConfig(**kw), tr, te, dom)[0]

    np.testing.assert_allclose(ours(name="knn-kmeans", n_clusters=8), g["kmeans_cosine_c8"], atol=1e-5)
    np.testing.assert_allclose(ours(name="knn-kmeans", n_clusters=8, metric="euclidean"), g["kmeans_euclid_c8"],
                               rtol=1e-5)
    # ASDKit Knn's cosine score is the chordal distance / 2; ours 1 − cos = 2 · score² (same ranking at k = 1)
    smote = ours(name="knn-smote")
    np.testing.assert_allclose(smote, 2 * g["smote_cosine_k1"] ** 2, atol=1e-5)
    assert np.abs(ours(name="knn") - smote).max() > 1e-3  # the SMOTE clips matter on this data
    np.testing.assert_allclose(ours(name="knn-smote", metric="euclidean", k=3), g["smote_euclid_k3"], rtol=1e-5)
    np.testing.assert_allclose(ours(name="knn-rescale"), g["rescale_cosine_k1_ref4"], rtol=1e-5)
    np.testing.assert_allclose(ours(name="knn-rescale", metric="euclidean", k=3, k_ref=2),
                               g["rescale_euclid_k3_ref2"], rtol=1e-5)
    # MERL: distance ½(1 − cos) / ¼ Euclidean — ratios identical, differences ×2 / ×4 here
    for metric, merl, factor in (("cosine", "cosine", 2), ("euclidean", "euclid", 4)):
        for mode in ("ratio", "difference"):
            for k_ref in (1, 3):
                want = g[f"merl_{merl}_{mode}_K{k_ref}"] * (factor if mode == "difference" else 1)
                got = ours(name="local-density", metric=metric, density=mode, k_ref=k_ref)
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_mahalanobis_golden_from_the_dcase_baseline():
    g = _golden("mahalanobis_golden.npz")
    got = score_section(BackendConfig(name="mahalanobis", cov="empirical"), g["train"], g["test"], g["domain"])[0]
    # the baseline works in float32 (torch.inverse of a 20-clip covariance): agreement to its precision
    np.testing.assert_allclose(got, g["selective_mahalanobis"], rtol=2e-3)


# --- wiring: configuration, spec, results, score_section semantics -------------------------------------

def test_config_validation_and_record():
    for bad in (dict(cov="mcd"), dict(density="log"), dict(smote_ratio=0.0), dict(smote_neighbors=0),
                dict(k_ref=0), dict(name="knn-pca")):
        with pytest.raises(DataError):
            BackendConfig(**bad)
    rec = BackendConfig(name="local-density").as_dict()
    assert {"cov", "smote_ratio", "smote_neighbors", "k_ref", "density"} <= set(rec) and rec["k_ref"] == 1
    assert set(NEW) <= set(BACKENDS)
    for name in NEW:
        assert BackendSpec(name=name).name == name
    assert set(BackendSpec().model_dump()) <= set(rec)


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("normalise", ["none", "train-loo", "test-z"])
def test_every_new_back_end_scores_sections_both_ways(clips, name, normalise):
    train, dom, test = clips
    cfg = BackendConfig(name=name, normalise=normalise)
    for domain in (dom, None):
        s_test, s_train = score_section(cfg, train, test, domain)
        assert s_test.shape == (30,) and s_train.shape == (132,)
        assert np.isfinite(s_test).all() and np.isfinite(s_train).all()


def test_ledoit_wolf_covariance_equals_sklearn():
    from sklearn.covariance import ledoit_wolf

    from impact_bench.anomaly.backends_extra import ledoit_wolf_covariance
    rng = np.random.default_rng(3)
    for n, d in ((10, 40), (200, 30), (1500, 1100)):  # 1,100 dims: more than one of sklearn's 1,000-wide blocks
        x = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) * 0.1 + 2.0
        np.testing.assert_allclose(ledoit_wolf_covariance(x), ledoit_wolf(x)[0], rtol=1e-9, atol=1e-12)


def test_backend_options_reach_the_config_through_the_suite():
    from impact_bench.anomaly.scoring import backend_config
    from impact_bench.suites.catalog import get_suite

    spec = get_suite("dcase2023-synth")
    cfg = backend_config(spec, {"name": "knn-smote", "smote_ratio": 0.3, "smote_neighbors": 3})
    assert (cfg.name, cfg.smote_ratio, cfg.smote_neighbors) == ("knn-smote", 0.3, 3)
    assert backend_config(spec, {"name": "knn-rescale"}).k_ref == 4
    with pytest.raises(DataError, match="cov"):
        backend_config(spec, {"name": "mahalanobis", "cov": "shrunk"})
