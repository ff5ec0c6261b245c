"""Per-clip anomaly data in results files, DeLong intervals, and `impact-bench compare` for anomaly runs
(tiny synthetic DCASE 2023 tree: one machine type per set, 12 test clips per section)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from impact_bench.anomaly import metrics as m
from impact_bench.anomaly.paired import compare_anomaly
from impact_bench.anomaly.perclip import add_delong_cis, arrays
from impact_bench.anomaly.submission import Unit, read_rows, score_path
from impact_bench.cli import main
from impact_bench.compare import ComparisonError, check_comparable, compare_two
from impact_bench.pipeline import RunRequest, run
from impact_bench.results import load_results
from impact_bench.stats.auc import partial_auc
from impact_bench.suites.catalog import get_suite
from impact_bench.synth.catalog import write_suite_data

SCALE = 0.01


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dcase2023")
    write_suite_data(get_suite("dcase2023-synth"), root, SCALE, machines=1, progress=False)
    other = tmp_path_factory.mktemp("other") / "tree"  # same layout, one training clip altered: different data
    shutil.copytree(root, other)
    wav = sorted(other.glob("dev_data/*/train/*.wav"))[0]
    audio, sr = sf.read(wav)
    sf.write(wav, audio * 0.5, sr, subtype=sf.info(wav).subtype)
    out = tmp_path_factory.mktemp("runs")
    paths = {}
    for label, tree, backend in (("a", root, {}), ("b", root, {"metric": "euclidean"}), ("c", other, {})):
        paths[label] = run(RunRequest(encoder="logmel-stats", suite="dcase2023-synth", data_root=tree, out=out / label,
                                      backend=backend, label=label, use_cache=False, progress=False), log=lambda _m: None)
    return paths


def test_per_clip_data_matches_the_submission_and_the_official_figures(runs):
    path = Path(runs["a"])
    res = load_results(path)
    for set_name, entry in res["sets"].items():
        assert entry["scored"] and entry["submission"] == f"{path.stem}.submission/{set_name}"
        folder = path.parent / entry["submission"]
        for machine, units in entry["clips"].items():
            for key, c in units.items():
                assert len(c["names"]) == len(c["labels"]) == len(c["domains"]) == len(c["scores"]) > 0
                rows = read_rows(score_path(folder, 2023, Unit(machine, key)))
                assert dict(zip(c["names"], c["scores"])) == rows  # the very floats of the CSV rows
                y, d, s = arrays(c)
                official = entry["machines"][machine]["sections"][key]
                again = m.section_2022(y, d, s)
                for field in ("auc_source", "auc_target", "auc_all", "pauc"):
                    assert again[field] == pytest.approx(official[field], abs=1e-12)
                for field, (lo, hi) in official["delong_ci"].items():
                    assert lo <= official[field] <= hi
            mean = entry["machines"][machine]
            for field, (lo, hi) in mean["delong_ci"].items():
                assert lo <= mean["mean"][field] <= hi


def test_delong_ci_of_a_mean_over_units_adds_the_variances():
    rng = np.random.default_rng(1)
    clips, res = {"fan": {}}, {"machines": {"fan": {"sections": {}}}}
    for k in range(3):
        y = np.r_[np.zeros(30, int), np.ones(20, int)]
        s = rng.normal(size=50) + y
        clips["fan"][f"id_0{k}"] = {"names": [f"{i}.wav" for i in range(50)], "labels": y.tolist(),
                                    "domains": [None] * 50, "scores": s.tolist()}
        res["machines"]["fan"]["sections"][f"id_0{k}"] = {"auc": m.auc(y, s)}
    add_delong_cis(res, clips, "mimii", None)
    rows = res["machines"]["fan"]["sections"].values()
    widths = [r["delong_ci"]["auc"][1] - r["delong_ci"]["auc"][0] for r in rows]
    lo, hi = res["machines"]["fan"]["delong_ci"]["auc"]
    assert lo <= np.mean([r["auc"] for r in rows]) <= hi
    assert hi - lo == pytest.approx(np.sqrt(np.sum(np.square(widths))) / 3, rel=1e-6)  # no clipping here


def test_partial_auc_statistic_is_the_dcase_pauc():
    rng = np.random.default_rng(0)
    for i in range(50):
        n = int(rng.integers(8, 120))
        y = rng.integers(0, 2, n)
        y[:2] = (0, 1)
        s = rng.normal(size=n) + y
        s = np.round(s, 1) if i % 2 else s  # ties too
        got = partial_auc(m.MAX_FPR)(y, s, np.ones((1, n), dtype=np.int64))[0]
        assert got == pytest.approx(m.pauc(y, s), abs=1e-12)


def test_compare_reports_every_machine_and_is_reproducible(runs, capsys):
    assert compare_anomaly.__defaults__[0] == 2000  # the anomaly default (the CLI passes None → this)
    assert main(["compare", str(runs["a"]), str(runs["b"]), "--json", "--n-boot", "500"]) == 0
    report = json.loads(capsys.readouterr().out)
    a, b = load_results(runs["a"]), load_results(runs["b"])
    assert report["kind"] == "anomaly" and report["n_boot"] == 500 and report["seed"] == 0
    assert set(report["sets"]) == {"dev", "eval"}
    for set_name, entry in report["sets"].items():
        machines = set(a["sets"][set_name]["machines"])
        assert set(entry["rows"]) == machines | {"all"}
        for name, row in entry["rows"].items():
            assert set(row["metrics"]) == {"auc_source", "auc_target", "pauc", "score", "f1_source", "f1_target"}
            for metric, t in row["metrics"].items():
                assert 0 <= t["p"] <= 1 and t["ci"][0] <= t["diff"] + 1e-12 and t["diff"] <= t["ci"][1] + 1e-12
                if t["test"] == "bootstrap":
                    assert t["n_boot"] == 500 and t["seed"] == 0
                assert ("p_holm" in t) == (name != "all")
            if name != "all":
                sec = a["sets"][set_name]["machines"][name]["mean"]
                for metric in ("auc_source", "auc_target", "pauc"):
                    assert row["metrics"][metric]["a"] == pytest.approx(sec[metric], abs=1e-12)
        score = entry["rows"]["all"]["metrics"]["score"]
        assert score["a"] == pytest.approx(a["sets"][set_name]["official_score"], abs=1e-12)
        assert score["b"] == pytest.approx(b["sets"][set_name]["official_score"], abs=1e-12)
    assert compare_two(a, b, 500, 0) == report  # same seed → same numbers
    assert main(["compare", str(runs["a"]), str(runs["b"]), "--n-boot", "200"]) == 0
    table = capsys.readouterr().out
    assert "### eval" in table and "AUC-s" in table and "score (hmean)" in table
    assert all(mach in table for s in a["sets"].values() for mach in s["machines"])


def test_units_are_weighted_like_the_evaluator_and_holm_spans_the_table():
    """Two machine types × two sections (2023 rules): machine rows = mean over sections, 'all' score = official."""
    rng = np.random.default_rng(2)

    def fake(shift: float) -> dict:
        clips, machines = {}, {}
        for mach in ("fan", "pump"):
            for sec in ("section_00", "section_01"):
                y = np.r_[np.zeros(16, int), np.ones(12, int)]
                d = np.tile([0, 1], 14)
                s = rng.normal(size=28) + (1 + shift) * y
                clips.setdefault(mach, {})[sec] = {"names": [f"{sec}_{i:04d}.wav" for i in range(28)],
                                                   "labels": y.tolist(), "domains": d.tolist(), "scores": s.tolist()}
                machines.setdefault(mach, {"sections": {}})["sections"][sec] = m.section_2022(y, d, s)
        flat = [r for e in machines.values() for r in e["sections"].values()]
        return {"encoder": {"name": f"x{shift}"}, "suite": {"name": "s", "layout": "dcase", "year": 2023},
                "sets": {"dev": {"scored": True, "clips": clips, "machines": machines,
                                 "official_score": m.official_2022(flat)}}}

    a, b = fake(0.0), fake(0.5)
    report = compare_anomaly(a, b, n_boot=300, seed=3)
    rows = report["sets"]["dev"]["rows"]
    assert list(rows) == ["fan/section_00", "fan/section_01", "fan", "pump/section_00", "pump/section_01", "pump",
                          "all"]
    secs = a["sets"]["dev"]["machines"]["fan"]["sections"]
    assert rows["fan"]["metrics"]["auc_source"]["a"] == pytest.approx(np.mean([r["auc_source"] for r in secs.values()]))
    assert rows["fan"]["metrics"]["score"]["a"] == pytest.approx(m.machine_score(2023, a["sets"]["dev"]["machines"]["fan"]))
    assert rows["all"]["metrics"]["score"]["a"] == pytest.approx(a["sets"]["dev"]["official_score"])
    assert rows["all"]["metrics"]["score"]["b"] == pytest.approx(b["sets"]["dev"]["official_score"])
    ps = [rows[n]["metrics"]["pauc"]["p"] for n in rows if n != "all"]
    holm = [rows[n]["metrics"]["pauc"]["p_holm"] for n in rows if n != "all"]
    assert all(h >= p for p, h in zip(ps, holm)) and max(holm) <= 1
    assert min(holm) == pytest.approx(min(1.0, min(ps) * len(ps)))


def test_runs_that_do_not_pair_exit_2_naming_the_field(runs, tmp_path, capsys):
    assert main(["compare", str(runs["a"]), str(runs["c"])]) == 2
    assert "field 'suite.data_fingerprint.content_sha256'" in capsys.readouterr().err
    raw = json.loads(Path(runs["b"]).read_text())
    names = raw["sets"]["eval"]["clips"]["bandsaw"]["section_00"]["names"]
    names[0] = "renamed.wav"
    tampered = tmp_path / "b2.json"
    tampered.write_text(json.dumps(raw))
    with pytest.raises(ComparisonError, match=r"sets\.eval\.clips\.bandsaw\.section_00\.names"):
        check_comparable([load_results(runs["a"]), load_results(tampered)], ["a", "b2"])
    raw = json.loads(Path(runs["b"]).read_text())
    del raw["sets"]["dev"]["clips"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(raw))
    assert main(["compare", str(runs["a"]), str(old)]) == 2
    assert "field 'sets.dev.clips' is missing" in capsys.readouterr().err


def test_headline_matrix_matches_the_official_score_and_the_pairwise_bootstrap(runs):
    from impact_bench.anomaly.paired import headline_matrix
    from impact_bench.anomaly.scoring import set_headline
    from impact_bench.stats.auc import bootstrap_many, paired_bootstrap, weighted_auc

    res = [load_results(runs[k]) for k in ("a", "b")]
    for set_name in res[0]["sets"]:
        observed, p, dist = headline_matrix(res, set_name, n_boot=300, seed=4)
        for r, value in zip(res, observed):  # the statistic on the real clips is the results file's headline
            assert value == pytest.approx(set_headline(r["sets"][set_name]), abs=1e-12)
        pair = compare_anomaly(res[0], res[1], n_boot=300, seed=4)["sets"][set_name]["rows"]["all"]["metrics"]["score"]
        assert p[0, 1] == p[1, 0] == pytest.approx(pair["p"], abs=1e-12)  # same draws as the paired bootstrap
        assert dist.shape == (300, 2)
    rng = np.random.default_rng(0)  # one set of draws for E scorers == each pair's paired bootstrap
    y = np.r_[np.zeros(30, int), np.ones(12, int)]
    sc = rng.normal(size=(3, y.size)) + y
    obs, dist = bootstrap_many(y, None, sc, weighted_auc, n_boot=200, seed=1)
    r = paired_bootstrap(y, None, sc[2], sc[0], weighted_auc, n_boot=200, seed=1)
    np.testing.assert_array_equal(dist[:, 2] - dist[:, 0], r.distribution)
    assert (obs[2], obs[0]) == (r.stat_a, r.stat_b)


def test_anomaly_leaderboard_ranks_runs_with_tie_groups(runs, tmp_path):
    from impact_bench.anomaly.paired import headline_matrix
    from impact_bench.leaderboards.anomaly_ranks import N_BOOT, SEED
    from impact_bench.stats.multiple import tie_groups

    board = tmp_path / "board.md"
    assert main(["leaderboard", str(runs["a"]), str(runs["b"]), "-o", str(board), "--no-figures"]) == 0
    text = board.read_text()
    res = [load_results(runs[k]) for k in ("a", "b")]
    for set_name in res[0]["sets"]:
        assert f"Rank on the {set_name} headline" in text
        observed, p, _ = headline_matrix(res, set_name, N_BOOT, SEED)
        ranks = tie_groups(observed, p, 0.05, "holm")
        block = text.split(f"Rank on the {set_name} headline")[1].split("\n\n")[1]
        rows = [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines()[2:]]
        got = {r[1].split(" [")[0]: (r[0], r[2]) for r in rows}
        assert got == {lab: (str(rank), f"{value:.4f}") for lab, rank, value in zip(("a", "b"), ranks, observed)}
    # runs on different data do not pair: the page says so instead of ranking them
    other = tmp_path / "other.md"
    assert main(["leaderboard", str(runs["a"]), str(runs["c"]), "-o", str(other), "--no-figures"]) == 0
    assert "Rank: none — the runs do not pair" in other.read_text()


def test_paired_f1_of_the_decisions_matches_the_official_f1(runs):
    from impact_bench.anomaly.submission import decision_path

    a, b = load_results(runs["a"]), load_results(runs["b"])
    rep = compare_anomaly(a, b, n_boot=200, seed=2)
    assert rep["tests"]["f1_source"].startswith("paired bootstrap")
    for set_name, entry in a["sets"].items():
        folder = Path(runs["a"]).parent / entry["submission"]
        for machine, units in entry["clips"].items():
            row = rep["sets"][set_name]["rows"][machine]["metrics"]
            for f in ("f1_source", "f1_target"):
                official = np.mean([entry["machines"][machine]["sections"][k][f] for k in units])
                assert row[f]["a"] == pytest.approx(official, abs=1e-12)
                assert row[f]["n_boot"] == 200 and row[f]["test"] == "bootstrap"
            for key, c in units.items():  # the recorded decisions are the decision CSV's
                assert dict(zip(c["names"], c["decisions"])) == read_rows(
                    decision_path(folder, 2023, Unit(machine, key)), decision=True)
