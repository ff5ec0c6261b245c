"""`impact-bench select-backend` and the first-shot record, on tiny synthetic DCASE trees."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from impact_bench import readers
from impact_bench.anomaly import backends
from impact_bench.anomaly.scoring import backend_config, score_set
from impact_bench.anomaly.selection import (
    SelectionError, candidate_label, default_candidates, evaluate_candidates, parse_candidate, read_selection,
)
from impact_bench.cli import main as cli_main
from impact_bench.encoders.catalog import build_encoder
from impact_bench.extract import extract
from impact_bench.leaderboards.anomaly import first_shot_mark
from impact_bench.runner import RunRequest, run
from impact_bench.suites.catalog import get_suite
from impact_bench.synth.catalog import write_suite_data

SCALE = 0.01  # minimum counts: 8 source + 1 target training clips, 3 test clips per domain × label


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    made: dict[int, Path] = {}

    def make(year: int) -> Path:
        if year not in made:
            root = tmp_path_factory.mktemp(f"dcase{year}")
            write_suite_data(get_suite(f"dcase{year}-synth"), root, SCALE, machines=1, progress=False)
            made[year] = root
        return made[year]
    return make


# three that score, three that cannot run on 1 target training clip (LOO; a 1-sample mixture; LOF's neighbours)
CANDIDATES = ["knn/none", "knn/none,metric=euclidean", "kmeans/none,n_clusters=4", "knn/train-loo", "gmm/none",
              "lof/none,metric=euclidean"]


@pytest.fixture(scope="module")
def selected(tree, tmp_path_factory):
    """One selection on dcase2023-synth; (data root, cache, selection file)."""
    from impact_bench.pipeline.select_backend import select_backend

    work = tmp_path_factory.mktemp("select")
    root, cache = tree(2023), work / "cache"
    out = select_backend(RunRequest(encoder="logmel-stats", suite="dcase2023-synth", data_root=root, cache_dir=cache,
                                    progress=False), [parse_candidate(c) for c in CANDIDATES], work / "sel.json",
                         log=lambda _m: None)
    return root, cache, out


def _official_dev_score(clips, units) -> float:
    """DCASE 2023 official score from its definition: per section AUC-source (source normals + all anomalies),
    AUC-target (likewise), pAUC (max_fpr 0.1, whole section); harmonic mean of all, floored at eps."""
    by_name = {c.name: c for c in clips}
    aucs_s, aucs_t, paucs = [], [], []
    for names, scores, _ in units.values():
        y = np.array([by_name[n].label == "anomaly" for n in names], int)
        tgt = np.array([by_name[n].domain == "target" for n in names])
        s = np.asarray(scores)
        for dom_mask, acc in ((~tgt, aucs_s), (tgt, aucs_t)):
            keep = dom_mask | (y == 1)
            acc.append(roc_auc_score(y[keep], s[keep]))
        paucs.append(roc_auc_score(y, s, max_fpr=0.1))
    return float(scipy.stats.hmean(np.maximum(aucs_s + aucs_t + paucs, sys.float_info.epsilon)))


def test_default_candidates_are_every_back_end_and_inductive_normalisation():
    got = default_candidates()
    assert {c["name"] for c in got} == set(backends.BACKENDS)
    assert {c["normalise"] for c in got} == set(backends.NORMALISATIONS) - set(backends.TRANSDUCTIVE)
    mixed = set(getattr(backends, "MIXED_BANK", ()))  # one detector: a normalisation changes no figure
    assert all(c["normalise"] == "none" for c in got if c["name"] in mixed)
    assert "test-z" not in {c["normalise"] for c in got} and len(got) == len({tuple(c.items()) for c in got})


def test_selection_is_the_argmax_of_directly_computed_dev_scores(selected):
    root, cache, out = selected
    sel = json.loads(out.read_text())
    spec = get_suite("dcase2023-synth")
    clips = [c for c in readers.scan(spec, root).clips if c.set == "dev"]
    x = extract(build_encoder("logmel-stats"), clips, spec.audio, cache, progress=False).embeddings
    assert [c["options"] for c in sel["candidates"]] == [parse_candidate(c) for c in CANDIDATES]
    assert sum(c["dev_score"] is None for c in sel["candidates"]) >= 1  # failures are recorded, not fatal
    direct = []
    for cand in sel["candidates"]:
        try:
            units = score_set(spec, backend_config(spec, cand["options"]), clips, x, "dev")
        except Exception:  # the selection must have recorded the same failure
            assert cand["dev_score"] is None and cand["error"]
            direct.append(None)
            continue
        direct.append(_official_dev_score(clips, units))
        assert cand["dev_score"] == pytest.approx(direct[-1], abs=1e-12), cand["label"]
    best = max(v for v in direct if v is not None)
    assert sel["chosen"]["dev_score"] == pytest.approx(best, abs=1e-12)
    assert sel["chosen"]["options"] == sel["candidates"][direct.index(best)]["options"]  # first on ties
    assert len({v for v in direct if v is not None}) > 1  # the candidates really differ on this data


def test_selection_file_round_trips_and_records_its_provenance(selected):
    root, _, out = selected
    sel, sha = read_selection(out)
    assert sha == hashlib.sha256(out.read_bytes()).hexdigest()
    assert sel == json.loads(out.read_text())
    assert sel["suite"] == {"name": "dcase2023-synth", "version": get_suite("dcase2023-synth").version,
                            "year": 2023, "synthetic": True}
    assert sel["encoder"]["request"] == "logmel-stats" and sel["encoder"]["identity"]["name"] == "logmel-stats"
    assert sel["data"]["selected_on"] == "dev" and sel["data"]["machines"] == ["bearing"]
    n_dev = len([p for p in (root / "dev_data").rglob("*.wav")])
    assert sel["data"]["fingerprint"]["files"] == n_dev  # dev clips only: no eval file was read
    assert sel["chosen"]["backend"]["name"] == sel["chosen"]["options"]["name"] and sel["created_utc"].endswith("Z")


def _run(root, out, cache, **kw) -> dict:
    path = run(RunRequest(encoder="logmel-stats", suite="dcase2023-synth", data_root=root, out=out, cache_dir=cache,
                          progress=False, **kw), log=lambda _m: None)
    return json.loads(Path(path).read_text())


def test_eval_run_with_the_selection_is_first_shot_clean_and_reuses_embeddings(selected, tmp_path):
    root, cache, out = selected
    sel, sha = read_selection(out)
    res = _run(root, tmp_path, cache, backend_from=out)
    fs = res["protocol"]["first_shot"]
    assert fs["applies"] and fs["matches"] and fs["clean"] and fs["dev_data_verified"]
    assert fs["selected_on"] == "dev" and fs["selection_sha256"] == sha and fs["selection_file"] == str(out)
    assert {k: res["protocol"]["backend"][k] for k in sel["chosen"]["backend"]} == sel["chosen"]["backend"]
    assert res["options"]["backend_from"] == str(out)
    assert res["extraction"]["cached"] == sel["data"]["fingerprint"]["files"]  # every dev embedding reused
    assert first_shot_mark(res) == ""


def test_runs_with_another_configuration_are_marked(selected, tmp_path):
    root, cache, out = selected
    sel, _ = read_selection(out)
    other = next(c["backend"] for c in sel["candidates"]
                 if c["dev_score"] is not None and c["dev_score"] != sel["chosen"]["dev_score"])
    settable = get_suite("dcase2023-synth").protocol.backend.model_dump()
    res = _run(root, tmp_path / "a", cache, backend_from=out, backend={k: v for k, v in other.items() if k in settable})
    fs = res["protocol"]["first_shot"]
    assert fs["applies"] and fs["matches"] is False and fs["clean"] is False
    assert first_shot_mark(res) == " [not first-shot]"
    # no selection file: the suite default is clean (fixed a priori), any other configuration is not
    default = _run(root, tmp_path / "b", cache)["protocol"]["first_shot"]
    assert default["selected_on"] == "suite default" and default["clean"] is True
    tuned = _run(root, tmp_path / "c", cache, backend={"metric": "euclidean"})
    assert tuned["protocol"]["first_shot"]["clean"] is False and first_shot_mark(tuned) == " [not first-shot]"
    from impact_bench.leaderboards.anomaly import sections
    text = "\n".join(sections([("logmel-stats", tuned)], tmp_path / "lb.md", figures=False))
    assert "logmel-stats [not first-shot]" in text and "Runs marked [not first-shot]" in text


def test_selection_for_another_suite_encoder_or_data_is_refused(selected, tmp_path):
    root, cache, out = selected
    with pytest.raises(SelectionError, match="suite.name"):  # refused before any work
        run(RunRequest(encoder="logmel-stats", suite="dcase2024-synth", data_root=tmp_path, out=tmp_path,
                       backend_from=out, progress=False), log=lambda _m: None)
    with pytest.raises(SelectionError, match="encoder.request"):
        run(RunRequest(encoder="vggish", suite="dcase2023-synth", data_root=root, out=tmp_path,
                       backend_from=out, progress=False), log=lambda _m: None)
    sel = json.loads(out.read_text())
    for field, edit in (("encoder.identity", lambda s: s["encoder"]["identity"].update(version="0.0-other")),
                        ("data.fingerprint", lambda s: s["data"]["fingerprint"].update(content_sha256="0" * 64))):
        bad = json.loads(json.dumps(sel))
        edit(bad)
        path = tmp_path / f"{field}.json"
        path.write_text(json.dumps(bad))
        with pytest.raises(SelectionError, match=field):
            _run(root, tmp_path / field, cache, backend_from=path)
    path = tmp_path / "not-a-selection.json"
    path.write_text("{}")
    assert cli_main(["run", "--suite", "dcase2023-synth", "--encoder", "logmel-stats", "--data-root", str(root),
                     "--out", str(tmp_path), "--backend-from", str(path), "--quiet"]) == 2


@pytest.mark.slow  # writes its own tree (~10 s)
def test_2020_to_2022_record_the_choice_without_a_first_shot_mark(tree, tmp_path):
    """Not first-shot years (dev and eval share machine types): the selection applies, nothing is marked."""
    from impact_bench.pipeline.select_backend import select_backend

    root = tree(2022)
    out = select_backend(RunRequest(encoder="logmel-stats", suite="dcase2022-synth", data_root=root,
                                    cache_dir=tmp_path / "cache", progress=False),
                         None, tmp_path / "s.json", log=lambda _m: None)  # the default candidates, end to end
    path = run(RunRequest(encoder="logmel-stats", suite="dcase2022-synth", data_root=root, out=tmp_path,
                          cache_dir=tmp_path / "cache", progress=False, backend_from=out,
                          backend={"metric": "euclidean"}), log=lambda _m: None)
    assert [c["options"] for c in json.loads(out.read_text())["candidates"]] == default_candidates()
    fs = json.loads(Path(path).read_text())["protocol"]["first_shot"]
    assert fs["applies"] is False and fs["clean"] is None and fs["matches"] is False and fs["selected_on"] == "dev"
    assert first_shot_mark(json.loads(Path(path).read_text())) == ""


def test_candidate_parsing_and_unrunnable_candidates(tree):
    assert parse_candidate("knn") == {"name": "knn"}
    assert parse_candidate("knn/train-loo,k=3,metric=euclidean") == {"name": "knn", "normalise": "train-loo",
                                                                    "k": 3, "metric": "euclidean"}
    assert parse_candidate("name=gmm,n_components=4") == {"name": "gmm", "n_components": 4}
    assert candidate_label({"name": "knn", "normalise": "none", "k": 3}) == "knn/none,k=3"
    for bad in ("knn,k", "knn,k=", ","):
        with pytest.raises(SelectionError):
            parse_candidate(bad)
    spec = get_suite("dcase2023-synth")
    clips = [c for c in readers.scan(spec, tree(2023)).clips if c.set == "dev"]
    x = np.random.default_rng(0).normal(size=(len(clips), 8)).astype(np.float32)
    res = evaluate_candidates(spec, clips, x, [{"name": "no-such"}, {"name": "knn", "normalise": "train-loo", "k": 50},
                                               {"name": "knn", "normalise": "none"}])
    assert "no-such" in res[0].error and res[0].dev_score is None
    assert res[1].dev_score is None and "50" in res[1].error  # a bank of ≤ 10 clips cannot give 50 neighbours
    assert res[2].dev_score is not None and res[2].error is None


def test_cli_select_backend_refuses_non_dcase_suites_and_existing_files(tree, tmp_path, capsys):
    root = tree(2023)
    existing = tmp_path / "sel.json"
    existing.write_text("{}")
    assert cli_main(["select-backend", "--suite", "dcase2023-synth", "--encoder", "logmel-stats", "--data-root",
                     str(root), "-o", str(existing), "--quiet"]) == 2
    assert "exists" in capsys.readouterr().err and existing.read_text() == "{}"
    assert cli_main(["select-backend", "--suite", "dinos-synth", "--encoder", "logmel-stats", "--quiet"]) == 2
    assert "unsupervised DCASE" in capsys.readouterr().err
    out = tmp_path / "chosen.json"
    assert cli_main(["select-backend", "--suite", "dcase2023-synth", "--encoder", "logmel-stats", "--data-root",
                     str(root), "--candidates", "knn/none", "kmeans/none,n_clusters=4", "--cache-dir",
                     str(tmp_path / "c"), "-o", str(out), "--quiet"]) == 0
    sel, _ = read_selection(out)
    assert [c["label"] for c in sel["candidates"]] == ["knn/none", "kmeans/none,n_clusters=4"]
    assert "chose " in capsys.readouterr().out and sel["chosen"]["dev_score"] == max(
        c["dev_score"] for c in sel["candidates"])
