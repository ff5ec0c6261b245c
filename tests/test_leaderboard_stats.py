"""Leaderboard statistics: ``--ci`` cells, the significance-matrix figure, the LaTeX rank table.

Two quick runs (3 seeds) of the tiny synthetic DINOS tree, made once for the module.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from impact_bench.cli import main as cli_main
from impact_bench.leaderboards.classification import build
from impact_bench.leaderboards.intervals import holm_matrix, run_intervals
from impact_bench.pipeline import run
from impact_bench.pipeline.options import RunRequest
from impact_bench.results import load_results

CELL = re.compile(r"(\d\.\d{4}) \[(\d\.\d{4}), (\d\.\d{4})\]")


@pytest.fixture(scope="module")
def two_runs(tiny_tree, tmp_path_factory):
    import torch

    out = tmp_path_factory.mktemp("lb_stats_runs")
    paths, threads = [], torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: one thread is several times faster on a busy machine
    try:
        for label, opts in (("mel64", {}), ("mel32", {"n_mels": 32})):
            paths.append(run(RunRequest(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, out=out,
                                        seeds=3, label=label, progress=False, use_cache=False, standardize=True,
                                        encoder_options=opts), log=lambda _m: None))
    finally:
        torch.set_num_threads(threads)
    return paths


def test_run_intervals_bracket_the_means(two_runs):
    res = load_results(two_runs[0])
    iv = run_intervals(res, n_boot=500)
    assert set(iv) == {p["name"] for p in res["problems"]} | {"overall"}
    for p in res["problems"]:
        lo, hi = iv[p["name"]]
        assert lo <= p["macro_f1"]["mean"] + 1e-9 and p["macro_f1"]["mean"] - 1e-9 <= hi
    stripped = {**res, "problems": [{**p, "y_true": None} for p in res["problems"]]}
    assert run_intervals(stripped) == {}  # schema < 1.2: no interval


def test_holm_matrix_is_symmetric_and_adjusted():
    p = np.array([[1, 0.01, 0.04], [0.01, 1, 0.5], [0.04, 0.5, 1]])
    h = holm_matrix(p)
    assert np.allclose(h, h.T) and np.allclose(np.diag(h), 1)
    assert h[0, 1] == pytest.approx(0.03) and h[0, 2] == pytest.approx(0.08) and h[1, 2] == pytest.approx(0.5)


def test_leaderboard_ci_cells_and_significance_figure(two_runs, tmp_path):
    out = tmp_path / "board.md"
    assert cli_main(["leaderboard", *map(str, two_runs), "-o", str(out), "--ci"]) == 0
    text = out.read_text()
    cells = CELL.findall(text)
    assert len(cells) >= 2 * 4 + 2  # 4 problems × 2 runs in Table 3, plus the two overall cells
    for mean, lo, hi in cells:
        assert float(lo) <= float(mean) <= float(hi)
    rank_table = text.split("### Overall, with tie groups")[1].split("###")[0]
    assert "95 % CI" in rank_table and len(CELL.findall(rank_table)) == 2
    links = re.findall(r"\[significance matrix\]\(([^)]+)\)", text)
    assert len(links) == 1 and (tmp_path / links[0]).is_file()
    assert links[0].startswith("board_figures/significance_") and links[0].endswith(".png")


def test_latex_keeps_rank_and_intervals_and_no_figures(two_runs, tmp_path):
    out = tmp_path / "board.tex"
    build(two_runs, out, latex=True, figures=False, ci=True)
    text = out.read_text()
    rank_table = text.split("### Overall, with tie groups")[1].split("###")[0]
    assert "\\begin{tabular}" in rank_table and "rank" in rank_table and "mel64" in rank_table
    assert len(CELL.findall(rank_table)) == 2
    assert "significance matrix" not in text and not (tmp_path / "board_figures").exists()


def test_default_build_unchanged_without_ci(two_runs, tmp_path):
    out = build(two_runs, tmp_path / "plain.md", figures=False)  # the old signature still works
    text = out.read_text()
    assert not CELL.search(text) and " ± " in text and "### Overall, with tie groups" in text
