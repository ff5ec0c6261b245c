import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch

from impact_bench.pipeline import classification
from impact_bench.cli import main
from impact_bench.results import load_results

ARGS = ["run", "--encoder", "logmel-stats", "--suite", "dinos-synth", "--seeds", "2", "--quiet"]


def _run(tree, out, *extra):
    return main(ARGS + ["--data-root", str(tree), "--out", str(out), *extra])


def test_run_writes_complete_schema_and_is_idempotent(tiny_tree, tmp_path, capsys):
    assert _run(tiny_tree, tmp_path / "r") == 0
    path = tmp_path / "r" / "dinos-synth__logmel-stats.json"
    res = load_results(path)
    assert res["suite"]["synthetic"] is True and res["suite"]["data_fingerprint"]["files"] == 300
    assert [p["name"] for p in res["problems"]] == ["RenishawL", "VF2", "Yornew", "ColdSpray"]
    yornew = res["problems"][2]
    assert len(yornew["seeds"]) == 2 and len(yornew["per_task_f1"]) == 17
    seed0 = yornew["seeds"][0]
    assert abs(np.mean(list(seed0["per_task_f1"].values())) - seed0["macro_f1"]) < 1e-12
    assert np.array(yornew["confusion_matrix"]).sum() == 2 * seed0["n_test"]
    assert res["protocol"]["probe"]["standardize"] is False and res["protocol"]["split"] == "paper"
    assert res["encoder"]["name"] == "logmel-stats" and res["provenance"]["torch"]
    assert not list((tmp_path / "r").glob(".*partial"))
    mtime = path.stat().st_mtime_ns
    assert _run(tiny_tree, tmp_path / "r") == 0  # same command: up to date, file untouched
    assert "up to date" in capsys.readouterr().out and path.stat().st_mtime_ns == mtime
    assert load_results(path)["extraction"]["computed"] == 300


def test_different_config_needs_overwrite(tiny_tree, tmp_path, capsys):
    assert _run(tiny_tree, tmp_path / "r") == 0
    assert _run(tiny_tree, tmp_path / "r", "--standardize") == 2
    assert "--overwrite" in capsys.readouterr().err
    assert _run(tiny_tree, tmp_path / "r", "--standardize", "--overwrite") == 0
    res = load_results(tmp_path / "r" / "dinos-synth__logmel-stats.json")
    assert res["protocol"]["probe"]["standardize"] is True
    assert res["extraction"]["cached"] == 300  # warm embedding cache reused


def test_interrupted_run_resumes_from_finished_units(tiny_tree, tmp_path, monkeypatch):
    real = classification.probe_unit
    calls = []

    def flaky(problem, *a, **k):
        calls.append(problem.name)
        if problem.name == "Yornew" and calls.count("Yornew") == 1:
            raise KeyboardInterrupt
        return real(problem, *a, **k)

    monkeypatch.setattr(classification, "probe_unit", flaky)
    assert _run(tiny_tree, tmp_path / "r") == 130
    final = tmp_path / "r" / "dinos-synth__logmel-stats.json"
    assert not final.exists()  # no results file that looks complete
    partial = tmp_path / "r" / ".dinos-synth__logmel-stats.partial"
    assert sorted(p.name for p in partial.glob("problem-*.json")) == ["problem-RenishawL.json", "problem-VF2.json"]
    assert _run(tiny_tree, tmp_path / "r") == 0
    assert calls == ["RenishawL", "VF2", "Yornew", "Yornew", "ColdSpray"]
    assert load_results(final)["extraction"]["cached"] == 300


def test_real_dinos_without_data_fails_fast(tmp_path, capsys):
    assert main(["run", "--encoder", "logmel-stats", "--suite", "dinos", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "10.7910/DVN/FWAZBQ" in err and "changheonhan/dinos" in err and "--suite dinos-synth" in err
    assert "Looked in" in err and not list(tmp_path.iterdir())


def test_mistyped_encoder_is_reported_before_missing_data(tmp_path, capsys):
    assert main(["run", "--encoder", "logmel-stat", "--suite", "dinos", "--out", str(tmp_path)]) == 2
    assert "did you mean 'logmel-stats'" in capsys.readouterr().err


def test_subset_runs_are_marked(tiny_tree, tmp_path):
    assert _run(tiny_tree, tmp_path / "r", "--max-clips-per-class", "6") == 0
    res = load_results(tmp_path / "r" / "dinos-synth__logmel-stats__subset.json")
    assert res["suite"]["subset"] and res["suite"]["max_clips_per_class"] == 6


def test_duplicate_audio_under_two_labels_is_an_error(tree_copy, tmp_path, capsys):
    src = next((tree_copy / "DINOS_Downstreams_train/RenishawL/On").iterdir())
    shutil.copy(src, tree_copy / "DINOS_Downstreams_train/RenishawL/Off/dup.wav")
    assert _run(tree_copy, tmp_path / "r") == 2
    assert "different labels" in capsys.readouterr().err


def test_duplicate_audio_under_one_label_is_kept_once(tree_copy, tmp_path):
    src = next((tree_copy / "DINOS_Downstreams_train/RenishawL/On").iterdir())
    shutil.copy(src, tree_copy / "DINOS_Downstreams_test/RenishawL/On/dup.wav")
    assert _run(tree_copy, tmp_path / "r") == 0
    assert load_results(tmp_path / "r" / "dinos-synth__logmel-stats.json")["suite"]["duplicates_dropped"] == 1


def test_corrupt_clip_stops_the_run_naming_the_file(tree_copy, tmp_path, capsys):
    victim = next((tree_copy / "DINOS_Downstreams_test/VF2/Off").iterdir())
    victim.write_bytes(b"RIFF....garbage")
    assert _run(tree_copy, tmp_path / "r") == 2
    assert victim.name in capsys.readouterr().err
    assert not (tmp_path / "r" / "dinos-synth__logmel-stats.json").exists()


def test_official_split_uses_release_folders(tiny_tree, tmp_path):
    assert _run(tiny_tree, tmp_path / "r", "--split", "official") == 0
    res = load_results(tmp_path / "r" / "dinos-synth__logmel-stats.json")
    assert res["protocol"]["split"] == "official"
    assert res["problems"][0]["seeds"][0]["n_test"] == 4  # 2 classes × 2 test clips


def test_leaderboard_and_embed(tiny_tree, tmp_path):
    assert _run(tiny_tree, tmp_path / "r") == 0
    md = tmp_path / "board" / "dinos.md"
    assert main(["leaderboard", str(tmp_path / "r" / "dinos-synth__logmel-stats.json"), "-o", str(md)]) == 0
    text = md.read_text()
    assert "SYNTHETIC" in text and "For orientation only" in text and "IMPACT" in text
    synth_section = text.split("For orientation only")[0]
    assert "(published)" not in synth_section  # published numbers never share a table with synthetic ones
    assert (md.parent / "dinos_figures").is_dir() and len(list((md.parent / "dinos_figures").glob("*.png"))) == 5
    out = tmp_path / "e.npz"
    files = sorted((tiny_tree / "DINOS_Downstreams_train/VF2/On").iterdir())[:3]
    assert main(["embed", "--encoder", "logmel-stats", *map(str, files), "--out", str(out)]) == 0
    z = np.load(out)
    assert z["embeddings"].shape == (3, 256) and z["embeddings"].dtype == np.float32
    assert [str(f) for f in files] == z["files"].tolist()
    assert main(["embed", "--encoder", "logmel-stats", str(files[0]), "--out", str(out)]) == 2  # no overwrite


def test_incomplete_results_are_refused_by_leaderboard(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"schema_version": "1.0", "status": "running"}))
    assert main(["leaderboard", str(bad), "-o", str(tmp_path / "b.md")]) == 2
    assert "did not finish" in capsys.readouterr().err


def test_torchrun_sharded_extraction_equals_single_process(tiny_tree, tmp_path):
    """2 gloo ranks split the embedding work through the cache; rank 0 alone probes and writes."""
    assert _run(tiny_tree, tmp_path / "one", "--cache-dir", str(tmp_path / "c1")) == 0
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
           str(30_500 + os.getpid() % 1000), "-m", "impact_bench.cli", *ARGS, "--data-root", str(tiny_tree),
           "--out", str(tmp_path / "two"), "--cache-dir", str(tmp_path / "c2")]
    threads = str(torch.get_num_threads())  # torchrun would set 1; the probe's float sums depend on it
    # cwd outside the repo: `-m` puts the cwd first on sys.path, where the source tree would shadow the install
    proc = subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": threads}, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("wrote ") == 1  # only rank 0 reports and writes
    one = load_results(tmp_path / "one" / "dinos-synth__logmel-stats.json")
    two = load_results(tmp_path / "two" / "dinos-synth__logmel-stats.json")
    assert two["extraction"]["ranks"] == 2 and one["extraction"]["ranks"] == 1
    assert two["run_fingerprint"] == one["run_fingerprint"]
    assert two["problems"] == one["problems"]  # same embeddings → same probe, seed for seed
    shards = list((tmp_path / "c2" / "embeddings").rglob("shard-*.npz"))
    sizes = sorted(len(np.load(s)["keys"]) for s in shards)
    assert sum(sizes) == 300 and len(sizes) >= 2 and sizes[0] >= 100  # both ranks embedded about half
