"""MIMII protocol (b): Youden cut point, per-group probe metrics, leakage guard, the suite end to end,
and the report's reference rows."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from impact_bench.anomaly import metrics as m
from impact_bench.anomaly.reference import combined_score, machine_score, reference_rows
from impact_bench.anomaly.supervised import score_group
from impact_bench.errors import DataError
from impact_bench.probe import ProbeConfig, run_probe
from impact_bench.runner import RunRequest, run
from impact_bench.suites.catalog import get_suite
from impact_bench.synth.mimii_synth import write_mimii_synth


def test_youden_threshold_hand_cases():
    # J = TPR - FPR: at 0.6 every anomaly is above and every normal below (J = 1)
    assert m.youden_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.6, 0.7])) == 0.6
    # one normal at 0.5 above one anomaly at 0.4: J(0.7) = 0.5, J(0.4) = 1 - 0.5 = 0.5, J(0.5) = 0.5 - 0.5 = 0;
    # ties resolve to the highest cut point (the first on the ROC)
    assert m.youden_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.5, 0.4, 0.7])) == 0.7
    with pytest.raises(DataError, match="both normal and anomalous"):
        m.youden_threshold(np.array([0, 0]), np.array([0.1, 0.2]))


def _blobs(n_norm: int, n_abn: int, shift: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_norm + n_abn, 16)).astype(np.float32)
    y = np.r_[np.zeros(n_norm, int), np.ones(n_abn, int)]
    x[y == 1, :4] += shift
    return x, y


@pytest.mark.parametrize("youden_from", ["validation", "test"])
def test_separable_group_scores_perfectly(youden_from):
    sup = get_suite("mimii-supervised").protocol.supervised.model_copy(update={"seeds": 3, "youden_from": youden_from})
    x, y = _blobs(80, 40, shift=6.0)
    row = score_group(x, y, sup, "cpu", "6dB/fan")
    assert row["clips"] == 120 and row["abnormal"] == 40
    assert row["mean"]["auc"] == 1.0 and row["mean"]["accuracy"] > 0.95 and row["mean"]["f1"] > 0.9
    assert row["youden"]["mean"]["f1"] > 0.9 and 0 < row["youden"]["mean"]["threshold"] < 1
    assert row["roc"]["fpr"][0] == 0.0 and row["roc"]["tpr"][-1] == 1.0


def test_uninformative_embeddings_score_near_chance():
    sup = get_suite("mimii-supervised").protocol.supervised.model_copy(update={"seeds": 5})
    x, y = _blobs(150, 50, shift=0.0, seed=1)
    row = score_group(x, y, sup, "cpu", "-6dB/valve")
    assert 0.3 < row["mean"]["auc"] < 0.7


def test_too_few_abnormal_clips_is_a_clear_error():
    sup = get_suite("mimii-supervised").protocol.supervised
    x, y = _blobs(50, 4, shift=1.0)
    with pytest.raises(DataError, match=r"0dB/pump: .* 50 normal and 4 abnormal"):
        score_group(x, y, sup, "cpu", "0dB/pump")


def test_run_probe_per_seed_splits_and_their_size_check():
    x, y = _blobs(40, 20, shift=5.0)
    cfg = ProbeConfig(seeds=2, max_epochs=5)
    splits = [(np.arange(0, 60, 2), np.arange(1, 60, 2)), (np.arange(1, 60, 2), np.arange(0, 60, 2))]
    out = run_probe(x, y, 2, cfg, splits=splits)
    assert [o.test_idx.tolist() for o in out] == [splits[0][1].tolist(), splits[1][1].tolist()]
    assert out[0].proba.shape == (30, 2) and np.allclose(out[0].proba.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="equal train"):
        run_probe(x, y, 2, cfg, splits=[splits[0], (np.arange(10), np.arange(10, 60))])


def test_mimii_supervised_synth_end_to_end(tmp_path):
    root = tmp_path / "mimii"
    write_mimii_synth(root, scale=0.001, machines=("fan",), seconds=1.0, progress=False)  # 4 IDs x (6 + 3)
    path = run(RunRequest(encoder="logmel-stats", suite="mimii-supervised-synth", data_root=root, out=tmp_path / "o",
                          use_cache=False, progress=False), log=lambda _m: None)
    res = json.loads(Path(path).read_text())
    assert res["protocol"]["scheme"] == "supervised" and res["protocol"]["probe"]["train_fraction"] == 0.8
    assert res["protocol"]["backend"] is None and res["protocol"]["youden_from"] == "validation"
    assert set(res["sets"]) == {"-6dB", "0dB", "6dB"}
    fan = res["sets"]["6dB"]["machines"]["fan"]
    assert fan["clips"] == 36 and fan["abnormal"] == 12 and len(fan["epochs"]) == 10
    assert set(fan["mean"]) == {"accuracy", "precision", "recall", "f1", "auc"}
    assert res["summary"]["6dB"] == pytest.approx(fan["mean"]["f1"])
    assert not (tmp_path / "o" / "mimii-supervised-synth__logmel-stats.submission").exists()
    from impact_bench.leaderboards import build
    text = build([path], tmp_path / "board.md").read_text()
    assert "supervised protocol (b)" in text and "### -6dB: Youden-index threshold" in text
    assert "(published)" not in text  # synthetic: no reference rows


def test_report_reference_rows_as_printed():
    rows = reference_rows("mimii-supervised")
    cnn = rows["-6dB"]["CNN on IMS spectrogram (report)"]
    assert cnn["fan"] == {"accuracy": 0.8324, "precision": 0.8303, "recall": 0.4644, "f1": 0.5957, "auc": 0.85}
    assert len(rows["0dB"]["CNN on IMS spectrogram (report)"]) == 4
    assert rows["-6dB"]["CNN-LSTM (report)"]["fan"]["youden_recall"] == 0.7695
    assert reference_rows("dcase2023")["dev+eval"]["RMIS: BEATs iter3 (90M) (frozen, KNN, test-z)"]["all"] == {"rmis_score": 0.6331}
    han = reference_rows("dcase2024", "hmean")["eval"]["BEATs [16] (fine-tuned)"]
    assert han["Scanner"]["hmean"] == 0.8544 and han["all"]["hmean"] == 0.6446


def test_machine_and_combined_scores_follow_the_published_definitions():
    sec = {"auc_source": 0.8, "auc_target": 0.6, "pauc": 0.5}
    e2023 = {"machines": {"fan": {"sections": {"section_00": sec}}}, "official_score": 0.6, "scored": True}
    assert machine_score(2023, e2023["machines"]["fan"]) == pytest.approx(3 / (1 / 0.8 + 1 / 0.6 + 1 / 0.5))
    assert combined_score(2023, {"dev": e2023, "eval": {**e2023, "official_score": 0.4}}) == pytest.approx(0.48)
    assert combined_score(2023, {"dev": e2023}) is None
    e2020 = {"machines": {"fan": {"mean": {"auc": 0.9, "pauc": 0.7}}}, "scored": True}
    assert combined_score(2020, {"dev": e2020, "eval": e2020}) == pytest.approx(0.8)


def test_youden_threshold_is_finite_when_the_scores_are_inverted():
    thr = m.youden_threshold(np.array([1, 1, 0, 0]), np.array([0.1, 0.2, 0.6, 0.7]))
    assert np.isfinite(thr) and thr == 0.1  # J = 0 by flagging everything beats every J < 0
