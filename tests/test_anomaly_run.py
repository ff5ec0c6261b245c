"""End-to-end anomaly suites on tiny synthetic trees written in each year's official layout."""
from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from impact_bench.anomaly.backends import BackendConfig
from impact_bench.anomaly.dataset import AsdClip, read_attributes, read_correspondence, scan_dcase, scan_mimii
from impact_bench.anomaly.evaluator import evaluate
from impact_bench.anomaly.scoring import score_set
from impact_bench.errors import DataError
from impact_bench.runner import RunRequest, run
from impact_bench.suites.catalog import get_suite
from impact_bench.synth.catalog import write_suite_data
from impact_bench.synth.mimii_synth import write_mimii_synth

SCALE = 0.01  # minimum counts: 8 source + 1 target training clips, 3 test clips per domain x label


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    made: dict[int, Path] = {}

    def make(year: int) -> Path:
        if year not in made:
            root = tmp_path_factory.mktemp(f"dcase{year}")
            # 2024: two eval types, so that AirCompressor (attributes hidden in 2024) is among them
            write_suite_data(get_suite(f"dcase{year}-synth"), root, SCALE, machines=2 if year == 2024 else 1,
                             progress=False)
            made[year] = root
        return made[year]
    return make


def _run(root: Path, suite: str, out: Path, **kw) -> dict:
    path = run(RunRequest(encoder="logmel-stats", suite=suite, data_root=root, out=out, use_cache=False,
                          progress=False, **kw), log=lambda _m: None)
    return json.loads(Path(path).read_text())


@pytest.mark.parametrize("year,score_name,decision_name", [
    (2020, "anomaly_score_ToyCar_id_01.csv", None),
    (2021, "anomaly_score_fan_section_03_source_test.csv", "decision_result_fan_section_03_target_test.csv"),
    (2023, "anomaly_score_bandsaw_section_00_test.csv", "decision_result_bandsaw_section_00_test.csv"),
    (2024, "anomaly_score_3DPrinter_section_00_test.csv", "decision_result_3DPrinter_section_00_test.csv"),
])
def test_run_writes_official_files_and_matches_the_evaluator(trees, tmp_path, year, score_name, decision_name):
    root = trees(year)
    res = _run(root, f"dcase{year}-synth", tmp_path)
    sub = tmp_path / f"dcase{year}-synth__logmel-stats__partial.submission"
    assert (sub / "eval" / score_name).is_file()
    if decision_name:
        rows = list(csv.reader(open(sub / "eval" / decision_name)))
        assert rows and {r[1] for r in rows} <= {"0", "1"}
    assert set(res["sets"]) == {"dev", "eval"} and all(e["scored"] for e in res["sets"].values())
    assert res["sets"]["eval"]["labels_from"].endswith("ground_truth")  # synthetic: generator's ground truth
    again = evaluate(year, sub / "eval", root / "ground_truth")   # the standalone evaluator on the same files
    if year == 2020:
        assert res["sets"]["eval"]["mean_auc"] == pytest.approx(again["mean_auc"], abs=1e-12)
    else:
        assert res["sets"]["eval"]["official_score"] == pytest.approx(again["official_score"], abs=1e-12)
        assert 0 < res["summary"]["dev"] <= 1
    assert res["extraction"]["windows_per_clip"] == {"1": res["suite"]["data_fingerprint"]["files"]}
    assert res["protocol"]["domains"] == ("pooled" if year <= 2021 else "min")
    from impact_bench.anomaly.knn import screen_record  # the KNN search path is recorded (issue 17 item 10)
    assert res["protocol"]["knn_search"] == screen_record("auto", "cosine")


def test_eval_labels_never_reach_the_scores(trees, tmp_path):
    """Inverting every eval label changes the metrics (AUC → 1 − AUC) but not one byte of the submission."""
    root = trees(2023)
    flipped = tmp_path / "flipped"
    shutil.copytree(root / "ground_truth", flipped)
    for path in (flipped / "ground_truth_data").glob("*.csv"):
        rows = [[n, str(1 - int(v))] for n, v in csv.reader(open(path))]
        with open(path, "w", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    a = _run(root, "dcase2023-synth", tmp_path / "a")
    b = _run(root, "dcase2023-synth", tmp_path / "b", ground_truth=flipped)
    sub = "dcase2023-synth__logmel-stats__partial.submission/eval"
    for f in sorted((tmp_path / "a" / sub).glob("*.csv")):
        assert f.read_bytes() == (tmp_path / "b" / sub / f.name).read_bytes()
    ma, mb = (next(iter(r["sets"]["eval"]["machines"].values()))["mean"] for r in (a, b))
    assert mb["auc_all"] == pytest.approx(1 - ma["auc_all"])


def test_training_banks_hold_only_normal_training_clips():
    spec = get_suite("dcase2023-synth")
    clips = [AsdClip(Path(f"s_{i}.wav"), f"s_{i}.wav", "dev", "fan", "00", "train", d, "normal")
             for i, d in enumerate(["source"] * 4 + ["target"])]
    clips.append(AsdClip(Path("t.wav"), "t.wav", "dev", "fan", "00", "test", "source", "anomaly"))
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    assert len(score_set(spec, BackendConfig(), clips, x, "dev")) == 1
    leaky = clips[:-1] + [AsdClip(Path("t.wav"), "t.wav", "dev", "fan", "00", "train", "source", "anomaly")]
    with pytest.raises(AssertionError, match="non-normal"):
        score_set(spec, BackendConfig(), leaky + clips[-1:], np.vstack([x, x[:1]]), "dev")
    no_target = [c for c in clips if c.domain != "target"]
    with pytest.raises(DataError, match="no target-domain training clips"):
        score_set(spec, BackendConfig(), no_target, x[[0, 1, 2, 3, 5]], "dev")


def test_2024_noattribute_names_get_attributes_from_the_correspondence_files(trees):
    root = trees(2024)
    corr = sorted(root.glob("*_data/*/attributes_00_train_correspondence.csv"))
    assert corr, "the generator hides 2024 attributes like the real release"
    machine = corr[0].parent.name
    hidden = [p for p in (corr[0].parent / "train").glob("*_noAttribute.wav")]
    assert hidden
    mapping = read_correspondence(corr[0])
    assert mapping[hidden[0].name].startswith("section_00_") and "noAttribute" not in mapping[hidden[0].name]
    idx = scan_dcase(root, 2024, ("dev", "eval"))
    attrs = {c.attributes for c in idx.clips if c.machine == machine and c.split == "train"}
    assert "noAttribute" not in attrs and all(a.startswith("spd_") for a in attrs)
    numbers = {int(c.path.stem.split("_")[5]) for c in idx.clips if c.machine == "3DPrinter" and c.split == "train"}
    assert min(numbers) in (0, 1)  # whatever the first index, it is parsed, not assumed


def test_attribute_csv_reader(tmp_path):
    good = tmp_path / "attributes_00.csv"
    good.write_text("file_name,d1p,d1v,d2p,d2v\nfan/train/a.wav,spd,33,nz,A\n")
    assert read_attributes(good) == {"a.wav": {"spd": "33", "nz": "A"}}
    bad = tmp_path / "bad.csv"
    bad.write_text("name,x\n")
    with pytest.raises(DataError, match="bad.csv.*file_name"):
        read_attributes(bad)
    with pytest.raises(DataError, match="source_file_name"):
        read_correspondence(bad)


def test_mimii_official_split_channel_zero_and_per_snr_results(tmp_path):
    root = tmp_path / "mimii"
    write_mimii_synth(root, scale=0.001, machines=("fan",), ids=("id_00", "id_02"), seconds=1.0, progress=False)
    idx = scan_mimii(root, ("-6dB", "0dB", "6dB"))
    unit = [c for c in idx.clips if c.set == "0dB" and c.unit == "id_00"]
    normals = sorted(c.path.name for c in unit if c.label == "normal")
    n_abn = sum(c.label == "anomaly" for c in unit)
    assert sorted(c.path.name for c in unit if c.label == "normal" and c.split == "test") == normals[:n_abn]
    res = _run(root, "mimii-synth", tmp_path / "out")
    assert set(res["sets"]) == {"-6dB", "0dB", "6dB"}
    assert res["extraction"]["channels"] == {"8": len(idx.clips)}
    assert res["protocol"]["frontend"]["downmix"] == "channel 0 only"
    assert set(res["sets"]["6dB"]["machines"]["fan"]["sections"]) == {"id_00", "id_02"}


def test_dinos_anomaly_fits_on_normal_classes_only(tmp_path):
    rng = np.random.default_rng(0)
    base = tmp_path / "DINOS_Downstreams_{}" / "ColdSpray_anomaly"
    for split, folders in (("train", ("1-normal_stethoscope", "2-gas_loss")),
                           ("test", ("1-normal_stethoscope", "2-gas_loss"))):
        for folder in folders:
            d = Path(str(base).format(split)) / folder
            d.mkdir(parents=True)
            for k in range(4):
                tone = np.sin(2 * np.pi * (300 if "normal" in folder else 900) * np.arange(48000) / 48000)
                sf.write(d / f"{k}.wav", (0.3 * tone + 0.01 * rng.standard_normal(48000)).astype(np.float32), 48000)
    for split in ("train", "test"):
        (tmp_path / f"DINOS_Downstreams_{split}" / "Yornew_anomaly" / "007-1.0_6.35_25.4_4000_chatter").mkdir(parents=True)
        d = tmp_path / f"DINOS_Downstreams_{split}" / "Yornew_anomaly" / "007-1.0_6.35_25.4_4000_chatter"
        for k in range(3):
            sf.write(d / f"{k}.wav", (0.1 * rng.standard_normal(48000)).astype(np.float32), 48000)
        a = tmp_path / f"DINOS_Downstreams_{split}" / "Yornew_anomaly" / "013-3.0_6.35_76.2_4000_stable"
        a.mkdir()
        for k in range(3):
            sf.write(a / f"{k}.wav", np.sin(np.arange(48000) / 3).astype(np.float32) * 0.2, 48000)
    res = _run(tmp_path, "dinos-anomaly", tmp_path / "out")
    cs = res["sets"]["release"]["machines"]["ColdSpray"]["sections"]["ColdSpray_anomaly"]
    assert cs["auc"] == 1.0 and cs["best_f1"] == 1.0
    assert res["suite"]["data_fingerprint"]["files"] == 4 + 8 + 3 + 6  # anomalous training classes skipped


def test_eval_without_ground_truth_is_written_but_not_scored(trees, tmp_path):
    root = trees(2023)
    copy = tmp_path / "nogt"
    shutil.copytree(root / "eval_data", copy / "eval_data")
    res = _run(copy, "dcase2023", tmp_path / "out")  # the real suite: no automatic ground truth
    assert res["sets"]["eval"]["scored"] is False and "--ground-truth" in res["sets"]["eval"]["reason"]
    assert res["summary"]["eval"] is None
    assert (tmp_path / "out" / "dcase2023__logmel-stats__partial.submission" / "eval").is_dir()


def test_leaderboard_official_layout_published_rows_and_roc(trees, tmp_path):
    from impact_bench.leaderboards import build
    root = trees(2023)
    synth = run(RunRequest(encoder="logmel-stats", suite="dcase2023-synth", data_root=root, out=tmp_path / "r",
                           use_cache=False, progress=False), log=lambda _m: None)
    copy = tmp_path / "real"
    shutil.copytree(root / "eval_data", copy / "eval_data")
    shutil.copytree(root / "dev_data", copy / "dev_data")
    real = run(RunRequest(encoder="logmel-stats", suite="dcase2023", data_root=copy, out=tmp_path / "r",
                          ground_truth=root / "ground_truth", use_cache=False, progress=False), log=lambda _m: None)
    text = build([synth, real], tmp_path / "board.md").read_text()
    head, synth_part = text.split("## Anomaly suite `dcase2023-synth` ")
    real_part = head.split("## Anomaly suite `dcase2023` ")[1]
    assert "AUC-s / AUC-t / pAUC" in text and "SYNTHETIC" in synth_part
    assert "(published)" not in synth_part                       # published rows only beside real-data results
    assert "baseline AE (MSE) (published)" in real_part and "0.5925" in real_part and "0.6667 / 0.4829 / 0.5091" in real_part
    # published tables per machine type (Han et al. Table IX) and the RMIS anchors, with our runs' same summaries
    assert "Han et al.: BEATs + LoRA + group adapter (fine-tuned) (published)" in real_part and "0.6815" in real_part
    res = json.loads(Path(real).read_text())
    from impact_bench.anomaly.reference import combined_score
    ours = combined_score(2023, res["sets"])
    anchors = real_part.split("### dev + eval")[1]
    assert re.search(r"\| RMIS: BEATs iter3 \(90M\) \(frozen, KNN, test-z\) \(published\) +\| 0\.6331 ", anchors)
    assert "**0.6865**" in anchors  # Han et al. Table IX, All Hmean 68.65: the best row is bold
    assert "| logmel-stats " in anchors and f"{ours:.4f}" in anchors
    pngs = sorted((tmp_path / "board_figures").glob("roc_*.png"))
    assert pngs and all(p.stat().st_size > 1000 for p in pngs)


def test_dinos_anomaly_synth_writes_the_release_names_and_runs(tmp_path):
    from impact_bench.anomaly.dataset import DINOS_NORMAL
    root = tmp_path / "dinos"
    n = write_suite_data(get_suite("dinos-anomaly-synth"), root, 0.01, progress=False)
    # 17 Yornew + 8 ColdSpray classes, max(10, Table 2 count x 0.01) clips: 10 each but 1-normal_stethoscope
    # (1214 -> 12) and 5-normal_mic (1268 -> 13); 80 % of each class in the train folder
    assert n == 23 * 10 + 12 + 13
    for task, normal in DINOS_NORMAL.items():
        names = {p.name for p in (root / "DINOS_Downstreams_train" / task).iterdir()}
        assert set(normal) <= names and len(names) == (17 if task == "Yornew_anomaly" else 8)
    res = _run(root, "dinos-anomaly-synth", tmp_path / "out")
    assert res["suite"]["synthetic"] is True
    rows = res["sets"]["release"]["machines"]
    assert set(rows) == {"Yornew", "ColdSpray"}
    # read: the normal classes' training clips (4 Yornew x 8, ColdSpray 10 + 10), every test clip (23 x 2 + 2 + 3)
    assert res["suite"]["data_fingerprint"]["files"] == 4 * 8 + 10 + 10 + 23 * 2 + 2 + 3
    assert all(0.0 <= e["mean"]["auc"] <= 1.0 and "best_f1" in e["mean"] for e in rows.values())
