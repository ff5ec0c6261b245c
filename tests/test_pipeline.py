"""The run pipeline's contract: options that fit the suite's kind (others refused), applied options and
coverage recorded, partial runs marked, results validated on write and load, old files upgraded."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from impact_bench.cli import main
from impact_bench.errors import ResultsError
from impact_bench.pipeline import OptionError, RunRequest, run
from impact_bench.results import SCHEMA_VERSION, headline, load_results
from impact_bench.synth.mimii_synth import write_mimii_synth

REPO = Path(__file__).resolve().parents[1]


def _req(**kw) -> RunRequest:
    return RunRequest(encoder="logmel-stats", progress=False, use_cache=False, **kw)


@pytest.mark.parametrize("suite,option,flag,kind", [
    ("dinos-synth", {"ground_truth": Path("gt")}, "--ground-truth", "classification"),
    ("dinos-synth", {"backend": {"k": 3}}, "--backend-opt", "classification"),
    ("dinos-synth", {"machines": ("fan",)}, "--machines", "classification"),
    ("dinos-synth", {"toy2022": "attributes"}, "--toy2022", "classification"),
    ("mimii-synth", {"seeds": 3}, "--seeds", "anomaly"),
    ("mimii-synth", {"split": "official"}, "--split", "anomaly"),
    ("mimii-synth", {"max_clips_per_class": 5}, "--max-clips-per-class", "anomaly"),
    ("mimii-synth", {"standardize": True}, "--standardize", "anomaly"),
    ("mimii-supervised-synth", {"ground_truth": Path("gt")}, "--ground-truth", "supervised anomaly"),
    ("listen-onsite-synth", {"class_map": Path("m.csv")}, "--class-map", "classification"),
    ("dcase2023-synth", {"toy2022": "attributes"}, "--toy2022", "anomaly"),
    ("dinos-anomaly-synth", {"machines": ("Yornew",)}, "--machines", "anomaly"),
])
def test_options_that_do_not_fit_are_refused(tmp_path, suite, option, flag, kind):
    with pytest.raises(OptionError) as err:
        run(_req(suite=suite, out=tmp_path, **option), log=lambda m: None)
    assert flag in str(err.value) and (kind in str(err.value) or "apply to" in str(err.value))


def test_refused_option_exits_2_naming_it(tmp_path, capsys):
    assert main(["run", "--encoder", "logmel-stats", "--suite", "dinos-synth", "--ground-truth", "x",
                 "--out", str(tmp_path)]) == 2
    assert "--ground-truth does not apply to suite dinos-synth (kind: classification)" in capsys.readouterr().err


@pytest.fixture(scope="module")
def mimii_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mimii")
    write_mimii_synth(root, scale=0.001, machines=("fan",), seconds=1.0, progress=False)
    return root


def test_applied_options_and_partial_coverage_are_recorded(mimii_tree, tmp_path):
    """A tree with one machine type of four: the file, its name and the leaderboard say partial."""
    path = run(_req(suite="mimii-supervised-synth", data_root=mimii_tree, out=tmp_path, seeds=2), log=lambda m: None)
    assert path.name == "mimii-supervised-synth__logmel-stats__partial.json"
    res = load_results(path)
    assert res["schema_version"] == SCHEMA_VERSION and res["options"] == {"seeds": 2}
    assert res["protocol"]["probe"]["seeds"] == 2  # --seeds applies to the supervised probe
    assert all(len(m["epochs"]) == 2 for s in res["sets"].values() for m in s["machines"].values())  # 2 seeds
    cov = res["coverage"]
    assert cov["complete"] is False and cov["missing"]["machines"]["0dB"] == ["pump", "slider", "valve"]
    assert headline(res) == pytest.approx(res["summary"]["mean"])
    board = tmp_path / "board.md"
    assert main(["leaderboard", str(path), "-o", str(board), "--no-figures"]) == 0
    text = board.read_text()
    assert "logmel-stats [partial]" in text and "PARTIAL (missing machines" in text


def test_equal_normal_and_abnormal_counts_are_valid_for_protocol_b(mimii_tree, tmp_path):
    """The more-normals-than-abnormals rule belongs to the unsupervised split only."""
    root = tmp_path / "m"
    shutil.copytree(mimii_tree, root)
    for idir in root.glob("*/fan/id_*"):
        normals = sorted((idir / "normal").glob("*.wav"))
        for extra in normals[len(list((idir / "abnormal").glob("*.wav"))):]:
            extra.unlink()
    assert run(_req(suite="mimii-supervised-synth", data_root=root, out=tmp_path / "o", seeds=2),
               log=lambda m: None).is_file()
    with pytest.raises(Exception, match="more normal"):
        run(_req(suite="mimii-synth", data_root=root, out=tmp_path / "u"), log=lambda m: None)


def test_complete_run_roundtrips_and_old_files_upgrade(tiny_tree, tmp_path):
    path = run(_req(suite="dinos-synth", data_root=tiny_tree, out=tmp_path, seeds=2), log=lambda m: None)
    res = load_results(path)
    assert res["coverage"]["complete"] is True and res["coverage"]["summary"] == "the whole suite"
    assert res["suite"]["main_score"] == "mean_macro_f1" and headline(res) == res["summary"]["mean_macro_f1"]
    assert load_results(path) == res  # written through the same models it is read with
    for committed in sorted((REPO / "leaderboards" / "results").glob("*.json")):  # 1.1 files in the repository
        old = load_results(committed)
        assert old["coverage"]["inferred"] in (True, False) and old["schema_version"] == SCHEMA_VERSION
    raw = json.loads(path.read_text())  # the same run as a 1.0 file: no kind, no coverage, no options
    for key in ("kind", "coverage", "options"):
        raw.pop(key)
    raw["schema_version"] = "1.0"
    raw["suite"].pop("main_score")
    v10 = tmp_path / "v10.json"
    v10.write_text(json.dumps(raw))
    up = load_results(v10)
    assert up["kind"] == "classification" and up["upgraded_from"] == "1.0" and up["coverage"]["inferred"] is True
    assert up["coverage"]["complete"] is True and headline(up) == headline(res)


@pytest.mark.parametrize("damage,field", [
    (lambda r: r["problems"][0].pop("per_task_f1"), "problems.0.per_task_f1"),
    (lambda r: r["problems"][0]["macro_f1"].update(mean=7.5), "problems.0.macro_f1.mean"),
    (lambda r: r["problems"][1]["seeds"][0].update(macro_f1=float("nan")), "problems.1.seeds.0.macro_f1"),
    (lambda r: r["summary"].update(mean_macro_f1="high"), "summary.mean_macro_f1"),
])
def test_malformed_results_fail_on_load_naming_the_field(tiny_tree, tmp_path, damage, field):
    path = run(_req(suite="dinos-synth", data_root=tiny_tree, out=tmp_path, seeds=2), log=lambda m: None)
    raw = json.loads(path.read_text())
    damage(raw)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw).replace("NaN", "NaN"))
    with pytest.raises(ResultsError) as err:
        load_results(bad)
    assert f"field '{field}'" in str(err.value) and str(bad) in str(err.value)
