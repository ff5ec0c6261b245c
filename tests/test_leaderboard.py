import csv
from importlib import resources

import numpy as np

from impact_bench.leaderboards.classification import Column, _table
from impact_bench.reference import published
from impact_bench.suites.catalog import get_suite


def test_published_table3_is_mean_of_table4():
    """Checks the shipped CSVs and the 4-problem grouping (ColdSpray as ONE 8-class head)."""
    spec = get_suite("dinos")
    per_problem, per_task = published(spec)
    assert len(per_problem) == 8
    for model, rows in per_problem.items():
        for prob in spec.problems:
            mean = np.mean([per_task[model][t][0] for t in prob.tasks])
            assert abs(mean - rows[prob.name][0]) <= 0.0015, (model, prob.name)


def test_best_in_row_is_bold_and_missing_is_dash():
    cols = [Column("a", {"X": (0.5, 0.1), "Y": (0.9, 0.0)}, {}, None), Column("b", {"X": (0.7, 0.0)}, {}, None)]
    table = _table(["X", "Y"], cols, "per_problem", "machine", latex=False)
    assert "**0.7000 ± 0.0000**" in table and "0.5000 ± 0.1000 " in table and "–" in table
    latex = _table(["X"], cols, "per_problem", "machine", latex=True)
    assert "\\textbf{0.7000 ± 0.0000}" in latex and "$\\pm$" in latex


def test_reference_csvs_ship_as_package_data():
    names = {p.name for p in resources.files("impact_bench.published").iterdir()}
    assert {"dinos_table3_per_machine_f1.csv", "dinos_table4_per_task_f1.csv", "dinos_table2_tasks.csv"} <= names
    rows = list(csv.DictReader((resources.files("impact_bench.published") / "dinos_table2_tasks.csv").open()))
    assert sum(int(r["samples"]) for r in rows) == 7528
