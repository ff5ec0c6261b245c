"""evaluate-dcase against the official evaluators' algorithm, re-done here with scikit-learn."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from impact_bench.anomaly.evaluator import evaluate
from impact_bench.anomaly.submission import Unit, write_submission
from impact_bench.cli import main
from impact_bench.errors import DataError

EPS = np.finfo(float).eps


def _csv(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _section(rng, n=40):
    """Labels, domains and scores where anomalies score higher, target normals in between."""
    y = np.tile([0, 0, 1, 1], n // 4)
    dom = np.tile([0, 1, 0, 1], n // 4)
    s = rng.normal(0, 1, n) + 1.2 * y + 0.6 * dom
    dec = (s > 1.0).astype(int)
    return y, dom, s, dec


def _gt_2023(root: Path, sub: Path, rng, machines=("bandsaw", "grinder"), full_names=False):
    truth, units = {}, {}
    for mach in machines:
        y, dom, s, dec = _section(rng)
        names = [f"section_00_{i:04d}.wav" for i in range(len(y))]
        stem = f"ground_truth_{mach}_section_00_test.csv"
        _csv(root / "ground_truth_data" / stem, zip(names, y))
        _csv(root / "ground_truth_domain" / stem, zip(names, dom))
        full = [f"section_00_{('source', 'target')[d]}_test_{('normal', 'anomaly')[l]}_{i:04d}_a_1"
                for i, (l, d) in enumerate(zip(y, dom))]
        _csv(root / "ground_truth_attributes" / stem, zip(names, full))
        order = rng.permutation(len(y))  # submissions need not be sorted
        shown = [f"{full[i]}.wav" if full_names else names[i] for i in order]
        units[Unit(mach, "section_00")] = (shown, s[order], dec[order])
        truth[mach] = (y, dom, s, dec)
    write_submission(sub, 2023, units)
    return truth


def _official_2023(truth):
    """The 2023 evaluator's numbers, step by step (nttcslab/dcase2023_task2_evaluator dcase2023_task2_evaluator.py)."""
    auc_s, auc_t, paucs, per = [], [], [], {}
    for mach, (y, dom, s, dec) in truth.items():
        sel_s, sel_t = (dom == 0) | (y == 1), (dom == 1) | (y == 1)
        a_s, a_t = roc_auc_score(y[sel_s], s[sel_s]), roc_auc_score(y[sel_t], s[sel_t])
        p = roc_auc_score(y, s, max_fpr=0.1)
        auc_s.append(a_s), auc_t.append(a_t), paucs.append(p)
        tn, fp, fn, tp = np.bincount(2 * y[dom == 0] + dec[dom == 0], minlength=4)
        per[mach] = (a_s, a_t, p, tp / max(tp + fp, EPS))
    return scipy.stats.hmean(np.maximum(auc_s + auc_t + paucs, EPS)), per


@pytest.mark.parametrize("full_names", [False, True])
def test_2023_matches_official_algorithm(tmp_path, full_names):
    truth = _gt_2023(tmp_path / "gt", tmp_path / "sub", np.random.default_rng(0), full_names=full_names)
    res = evaluate(2023, tmp_path / "sub", tmp_path / "gt")
    official, per = _official_2023(truth)
    assert res["official_score"] == pytest.approx(official, abs=1e-15)
    for mach, (a_s, a_t, p, prec_s) in per.items():
        sec = res["machines"][mach]["sections"]["section_00"]
        assert (sec["auc_source"], sec["auc_target"], sec["pauc"]) == (a_s, a_t, p)
        assert sec["precision_source"] == pytest.approx(prec_s, abs=1e-15)


def test_2021_per_domain_and_2020_per_id(tmp_path):
    rng = np.random.default_rng(1)
    units, values = {}, []
    for dom in ("source", "target"):
        y, _, s, dec = _section(rng)
        names = [f"section_03_{dom}_test_{i:04d}.wav" for i in range(len(y))]
        _csv(tmp_path / "gt21" / "ground_truth_data" / f"ground_truth_fan_section_03_{dom}_test.csv", zip(names, y))
        units[Unit("fan", "section_03", dom)] = (names, s, dec)
        values += [roc_auc_score(y, s), roc_auc_score(y, s, max_fpr=0.1)]
    write_submission(tmp_path / "sub21", 2021, units)
    res = evaluate(2021, tmp_path / "sub21", tmp_path / "gt21")
    assert res["official_score"] == pytest.approx(scipy.stats.hmean(values), abs=1e-15)
    assert set(res["machines"]["fan"]["sections"]["section_03"]) == {"source", "target"}

    rows, units, aucs = [["ToyCar"]], {}, []
    for mid in ("id_05", "id_06"):
        y, _, s, _ = _section(rng)
        names = [f"{mid}_{i:08d}.wav" for i in range(len(y))]
        rows += [[n, f"{('normal', 'anomaly')[l]}_{n}", l] for n, l in zip(names, y)]
        units[Unit("ToyCar", mid)] = (names, s, None)
        aucs.append(roc_auc_score(y, s))
    _csv(tmp_path / "gt20" / "eval_data_list.csv", rows)
    write_submission(tmp_path / "sub20", 2020, units)
    assert not list((tmp_path / "sub20").glob("decision_result_*"))  # 2020 has no decision files
    res = evaluate(2020, tmp_path / "sub20", tmp_path / "gt20")
    assert res["official_score"] is None
    assert res["machines"]["ToyCar"]["mean"]["auc"] == pytest.approx(np.mean(aucs), abs=1e-15)


def test_2022_toy_ground_truth_is_selectable(tmp_path):
    rng = np.random.default_rng(2)
    y, dom, s, dec = _section(rng)
    names = [f"section_03_{i:04d}.wav" for i in range(len(y))]
    stem = "ground_truth_ToyCar_section_03_test.csv"
    flipped = 1 - y  # the two published ground truths disagree
    _csv(tmp_path / "gt" / "ground_truth_data" / stem, zip(names, flipped))
    _csv(tmp_path / "gt" / "ground_truth_domain" / stem, zip(names, dom))
    attrs = [["file_name", "d1p", "d1v", "file_name_with_attributes"]] + [
        [f"ToyCar/test/{n}", "car", "A1", f"ToyCar/test/section_03_{('source', 'target')[d]}_test_"
                                         f"{('normal', 'anomaly')[l]}_{i:04d}_car_A1.wav"]
        for i, (n, l, d) in enumerate(zip(names, y, dom))]
    _csv(tmp_path / "gt" / "ground_truth_attributes" / "ToyCar" / "attributes_03.csv", attrs)
    write_submission(tmp_path / "sub", 2022, {Unit("ToyCar", "section_03"): (names, s, dec)})
    a = evaluate(2022, tmp_path / "sub", tmp_path / "gt")
    b = evaluate(2022, tmp_path / "sub", tmp_path / "gt", toy2022="attributes")
    sec = lambda r: r["machines"]["ToyCar"]["sections"]["section_03"]  # noqa: E731
    assert sec(b)["auc_all"] == pytest.approx(1 - sec(a)["auc_all"])
    assert b["toy2022"] == "attributes" and sec(b)["auc_all"] > 0.7


def test_mismatched_submission_is_named(tmp_path):
    _gt_2023(tmp_path / "gt", tmp_path / "sub", np.random.default_rng(3))
    path = tmp_path / "sub" / "anomaly_score_bandsaw_section_00_test.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(DataError, match="anomaly_score_bandsaw_section_00_test.csv: 39 rows vs 40"):
        evaluate(2023, tmp_path / "sub", tmp_path / "gt")
    path.write_text("\n".join(lines[:-1] + [lines[-1].split(",")[0] + ",nan"]) + "\n")
    with pytest.raises(DataError, match="NaN/Inf"):
        evaluate(2023, tmp_path / "sub", tmp_path / "gt")
    (tmp_path / "sub" / "decision_result_grinder_section_00_test.csv").unlink()
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="decision_result_grinder_section_00_test.csv: file not found"):
        evaluate(2023, tmp_path / "sub", tmp_path / "gt")


def test_submission_folder_is_never_half_written(tmp_path):
    bad = {Unit("fan", "section_00"): (["a.wav", "b.wav"], np.array([0.1, np.nan]), None)}
    with pytest.raises(Exception, match="NaN/Inf"):
        write_submission(tmp_path / "sub", 2023, bad)
    assert not (tmp_path / "sub").exists() and not list(tmp_path.glob(".sub*"))


def test_cli_writes_json(tmp_path, capsys):
    _gt_2023(tmp_path / "gt", tmp_path / "sub", np.random.default_rng(4))
    out = tmp_path / "eval.json"
    assert main(["evaluate-dcase", "--year", "2023", "--submission", str(tmp_path / "sub"),
                 "--ground-truth", str(tmp_path / "gt"), "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert 0 < res["official_score"] < 1 and "official score" in capsys.readouterr().out
    assert main(["evaluate-dcase", "--year", "2019", "--submission", "x", "--ground-truth", "y"]) == 2
