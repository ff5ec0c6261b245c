"""`impact-bench compare` and leaderboard tie groups on real runs of the tiny synthetic DINOS tree."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from impact_bench.cli import main
from impact_bench.compare import ComparisonError, check_comparable, compare_two, rank_with_ties
from impact_bench.pipeline import RunRequest, run
from impact_bench.results import load_results


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_tree) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("cmp")
    paths = {}
    for label, opts, seeds in (("a", {}, 3), ("b", {"n_mels": 32}, 3), ("c", {}, 2)):
        paths[label] = run(RunRequest(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, out=out / label,
                                      encoder_options=opts, seeds=seeds, label=label, progress=False, use_cache=False,
                                      standardize=True), log=lambda m: None)
    return paths


def test_compare_reports_every_test_and_is_reproducible(runs, capsys):
    assert main(["compare", str(runs["a"]), str(runs["b"]), "--json", "--n-boot", "500"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["default_test"] == "cluster_bootstrap" and report["note"] is None
    assert set(report["rows"]) == {"RenishawL", "VF2", "Yornew", "ColdSpray", "overall"}
    for name, row in report["rows"].items():
        cb = row["cluster_bootstrap"]
        assert 0 <= cb["p"] <= 1 and cb["n_boot"] == 500 and cb["seed"] == 0
        assert {"corrected_t", "paired_t", "wilcoxon"} <= set(row)
        # the corrected t inflates the variance by (1/k + n_test/n_train): never more significant than the plain one
        assert row["corrected_t"]["p"] >= row["paired_t"]["p"] - 1e-12
        if name != "overall":
            assert cb["p_holm"] >= cb["p"]
    a, b = load_results(runs["a"]), load_results(runs["b"])
    again = compare_two(a, b, 500, 0)
    assert again["rows"] == report["rows"]  # same seed → same numbers
    overall = report["rows"]["overall"]
    assert overall["diff"] == pytest.approx(a["summary"]["mean_macro_f1"] - b["summary"]["mean_macro_f1"])


def test_runs_that_do_not_pair_exit_2_naming_the_field(runs, tmp_path, capsys):
    assert main(["compare", str(runs["a"]), str(runs["c"])]) == 2
    assert "field 'protocol.probe.seeds'" in capsys.readouterr().err
    raw = json.loads(runs["b"].read_text())
    raw["problems"][1]["seeds"][0]["test_idx"][0] += 1
    other = tmp_path / "b2.json"
    other.write_text(json.dumps(raw))
    with pytest.raises(ComparisonError, match=r"problems\.VF2\.seeds\.0\.test_idx"):
        check_comparable([load_results(runs["a"]), load_results(other)], ["a", "b2"])


def test_files_without_per_clip_data_fall_back_to_per_seed_tests(runs, tmp_path):
    raw = json.loads(runs["b"].read_text())
    for p in raw["problems"]:
        p.pop("y_true")
        for s in p["seeds"]:
            s.pop("y_pred")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(raw))
    report = compare_two(load_results(runs["a"]), load_results(old), 200, 0)
    assert report["default_test"] == "corrected_t" and "per-clip" in report["note"]
    assert "cluster_bootstrap" not in report["rows"]["overall"]
    assert rank_with_ties([load_results(runs["a"]), load_results(old)]) is None


def test_leaderboard_shows_tie_groups(runs, tmp_path):
    board = tmp_path / "board.md"
    assert main(["leaderboard", str(runs["a"]), str(runs["b"]), "-o", str(board), "--no-figures"]) == 0
    text = board.read_text()
    assert "### Overall, with tie groups" in text and "| rank " in text
    ranks = rank_with_ties([load_results(runs["a"]), load_results(runs["b"])], n_boot=10_000)
    assert ranks is not None and min(ranks) == 1


def test_leaderboard_tie_groups_can_use_benjamini_hochberg(runs, tmp_path):
    board = tmp_path / "bh.md"
    assert main(["leaderboard", str(runs["a"]), str(runs["b"]), "-o", str(board), "--no-figures",
                 "--correction", "fdr_bh"]) == 0
    assert "Benjamini–Hochberg-adjusted over the comparisons with the best" in board.read_text()
