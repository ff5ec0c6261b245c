"""Official DCASE metrics on hand-computed cases, and the threshold rules."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from impact_bench.anomaly import metrics as m
from impact_bench.errors import DataError


def test_auc_and_mcclish_pauc_by_hand():
    y, s = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    assert m.auc(y, s) == 0.75  # 3 of 4 (anomaly, normal) pairs ordered
    # ROC: (0, .5) at 0.8, flat to (.5, .5): area over FPR [0, .1] = .05; McClish .5 (1 + (.05 − .005)/(.1 − .005))
    assert math.isclose(m.pauc(y, s), 0.5 * (1 + 0.045 / 0.095), rel_tol=1e-12)


def test_section_2022_uses_all_anomalies_per_domain_and_hmean_floor():
    #            source normals   target normals   anomalies (one per domain)
    y = np.array([0, 0, 0, 0, 1, 1])
    dom = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.2, 0.9, 0.95, 0.5, 0.6])
    dec = np.array([0, 0, 1, 1, 1, 0])
    r = m.section_2022(y, dom, s, dec)
    assert r["auc_source"] == 1.0   # both anomalies (either domain) above the source normals
    assert r["auc_target"] == 0.0   # both anomalies below the target normals
    assert r["auc_all"] == 0.5
    # source clips: y [0 0 1], decisions [0 0 1] → perfect; target clips: y [0 0 1], dec [1 1 0] → tp 0
    assert (r["precision_source"], r["recall_source"], r["f1_source"]) == (1.0, 1.0, 1.0)
    assert (r["precision_target"], r["recall_target"], r["f1_target"]) == (0.0, 0.0, 0.0)
    official = m.official_2022([r])
    assert official == scipy.stats.hmean([1.0, m.EPS, r["pauc"]])  # the zero is floored at float eps


def test_official_2021_is_hmean_of_every_auc_and_pauc():
    units = [{"auc": 0.8, "pauc": 0.6}, {"auc": 0.5, "pauc": 0.55}]
    assert math.isclose(m.official_2021(units), 4 / (1 / 0.8 + 1 / 0.6 + 1 / 0.5 + 1 / 0.55))


def test_prf_epsilon_guards():
    assert m.prf(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 0])) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert m.prf(np.array([0, 1]), np.array([0, 0])) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_best_f1():
    assert m.best_f1(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.8)  # thr .35


def test_gamma_and_percentile_thresholds():
    rng = np.random.default_rng(0)
    scores = rng.gamma(2.0, 1.5, size=20_000)
    assert m.gamma_threshold(scores) == pytest.approx(scipy.stats.gamma.ppf(0.9, 2.0, scale=1.5), rel=0.02)
    assert m.percentile_threshold(np.arange(11.0)) == 9.0


def test_bad_scores_are_named():
    with pytest.raises(DataError, match="fan section_00: 1 anomaly scores are NaN"):
        m.auc(np.array([0, 1]), np.array([0.1, np.nan]), "fan section_00")
    with pytest.raises(DataError, match="needs both normal and anomalous"):
        m.auc(np.array([0, 0]), np.array([0.1, 0.2]))
