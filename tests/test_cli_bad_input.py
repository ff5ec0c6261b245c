"""Every CLI command given bad input answers with exit 2 and a sentence naming the file or field (detail lines
may follow it), never a traceback. The bad inputs are generated here (nothing committed); each case says what it feeds."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from impact_bench.cli import main
from impact_bench.pipeline import RunRequest, run


@pytest.fixture(scope="module")
def good_results(tmp_path_factory, tiny_tree) -> Path:
    out = tmp_path_factory.mktemp("good")
    os.environ.setdefault("IMPACT_BENCH_CACHE", str(out / "cache"))
    return run(RunRequest(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, out=out, seeds=1,
                          progress=False, use_cache=False), log=lambda m: None)


def _damaged(good: Path, folder: Path, name: str, change) -> Path:
    data = json.loads(good.read_text())
    change(data)
    path = folder / name
    path.write_text(json.dumps(data))  # NaN is written as the bare token NaN, as json.dumps does
    return path


def _cases(tmp: Path, good: Path, tree: Path) -> dict[str, tuple[list[str], str]]:
    """name → (argv, a phrase the one-line error must contain)."""
    a_file = tmp / "a-file.json"
    a_file.write_text("{}")
    utf16 = tmp / "map-utf16.csv"
    utf16.write_text("machine,folder,task\nVF2,x,T1\n", encoding="utf-16")
    no_per_task = _damaged(good, tmp, "nested.json", lambda d: d["problems"][0].pop("per_task_f1"))
    nan_f1 = _damaged(good, tmp, "nan.json", lambda d: d["problems"][0]["macro_f1"].update(mean=math.nan))
    big_f1 = _damaged(good, tmp, "big.json", lambda d: d["problems"][0]["macro_f1"].update(mean=7.5))
    cut = tmp / "cut.json"
    cut.write_text(good.read_text()[:200])
    not_audio = tmp / "not-audio.wav"
    not_audio.write_text("hello")
    run_args = ["run", "--encoder", "logmel-stats", "--suite", "dinos-synth", "--data-root", str(tree), "--quiet"]
    return {
        "run --out a file": ([*run_args, "--out", str(a_file)], "is a file"),
        "run --class-map UTF-16": (["run", "--encoder", "logmel-stats", "--suite", "dinos", "--data-root", str(tree),
                                    "--class-map", str(utf16), "--out", str(tmp / "r1")], "UTF-8"),
        "run --data-root missing": ([*run_args[:5], "--data-root", str(tmp / "nowhere"), "--out", str(tmp / "r2")],
                                    "no data found"),
        "leaderboard nested corruption": (["leaderboard", str(no_per_task), "-o", str(tmp / "b1.md"), "--no-figures"],
                                          "per_task_f1"),
        "leaderboard NaN F1": (["leaderboard", str(nan_f1), "-o", str(tmp / "b2.md"), "--no-figures"], "nan.json"),
        "leaderboard F1 out of range": (["leaderboard", str(big_f1), "-o", str(tmp / "b3.md"), "--no-figures"],
                                        "big.json"),
        "leaderboard truncated JSON": (["leaderboard", str(cut), "-o", str(tmp / "b4.md"), "--no-figures"], "cut.json"),
        "leaderboard -o a folder": (["leaderboard", str(good), "-o", str(tmp), "--no-figures"], "is a folder"),
        "compare truncated JSON": (["compare", str(cut), str(good)], "cut.json"),
        "embed not audio": (["embed", "--encoder", "logmel-stats", "--out", str(tmp / "e.npz"), str(not_audio)],
                            "not-audio.wav"),
        "embed --out a folder": (["embed", "--encoder", "logmel-stats", "--out", str(tmp), str(tree)], str(tmp)),
        "evaluate-dcase missing submission": (["evaluate-dcase", "--year", "2023", "--submission", str(tmp / "none"),
                                               "--ground-truth", str(tmp)], "ground_truth_data"),
        "check-encoder unknown name": (["check-encoder", "no-such-encoder"], "no-such-encoder"),
        "card unknown name": (["card", "no-such-encoder"], "no-such-encoder"),
    }


CASE_NAMES = ["run --out a file", "run --class-map UTF-16", "run --data-root missing", "leaderboard nested corruption",
              "leaderboard NaN F1", "leaderboard F1 out of range", "leaderboard truncated JSON",
              "leaderboard -o a folder", "compare truncated JSON", "embed not audio", "embed --out a folder",
              "evaluate-dcase missing submission", "check-encoder unknown name", "card unknown name"]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bad_input_is_one_sentence_and_exit_2(name, tmp_path, good_results, tiny_tree, capsys):
    argv, phrase = _cases(tmp_path, good_results, tiny_tree)[name]
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, (name, err)
    assert "Traceback" not in err and "impact-bench: error: " in err, err
    message = err[err.index("impact-bench: error: "):]  # progress bars may come first; details may follow
    assert phrase in message, (phrase, err)


def test_every_case_is_walked(tmp_path, good_results, tiny_tree):
    assert sorted(_cases(tmp_path, good_results, tiny_tree)) == sorted(CASE_NAMES)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_files_are_named(tmp_path, good_results, tiny_tree, capsys):
    locked = tmp_path / "locked.json"
    locked.write_bytes(good_results.read_bytes())
    locked.chmod(0)
    try:
        assert main(["leaderboard", str(locked), "-o", str(tmp_path / "b.md"), "--no-figures"]) == 2
        err = capsys.readouterr().err
        assert "locked.json" in err and "Traceback" not in err
    finally:
        locked.chmod(0o644)


def test_unreadable_audio_file_is_a_data_error(tmp_path, monkeypatch):
    """The hashing read (the first read of every clip) turns an I/O error into a sentence naming the file
    (simulated: the test may run as root, whom chmod 000 does not stop)."""
    from impact_bench import cache
    from impact_bench.errors import DataError
    wav = tmp_path / "x.wav"
    wav.write_bytes(np.zeros(10, np.int16).tobytes())
    real_open = open

    def failing_open(path, *a, **k):
        if Path(path) == wav:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(DataError, match="x.wav: cannot read .*Permission denied"):
        cache.file_sha256(wav)


def test_disk_full_names_the_path_and_the_size(tmp_path, monkeypatch):
    from impact_bench import cache
    from impact_bench.errors import ImpactBenchError

    def full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.os, "write", full)
    with pytest.raises(ImpactBenchError, match=r"cannot write .*r.json \(No space left on device; 1.0 kB needed\)"):
        cache.atomic_write_bytes(tmp_path / "r.json", b"x" * 1000)
    assert list(tmp_path.iterdir()) == []  # no temp file left


def test_backend_k_larger_than_a_bank_names_the_set_and_the_bank_size(tmp_path, capsys):
    from impact_bench.suites.catalog import get_suite
    from impact_bench.synth.catalog import write_suite_data
    write_suite_data(get_suite("dcase2020-synth"), tmp_path / "d", 0.01, machines=1, progress=False)
    code = main(["run", "--encoder", "logmel-stats", "--suite", "dcase2020-synth", "--data-root", str(tmp_path / "d"),
                 "--out", str(tmp_path / "o"), "--backend-opt", "k=999", "--no-cache", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    message = err[err.index("impact-bench: error: "):]
    assert "dev" in message and "k = 999" in message and "got 10" in message  # where, the k asked, the bank size


def test_an_os_error_anywhere_is_one_sentence(monkeypatch, capsys):
    """An I/O failure the code did not foresee (here: the disk fills while listing) still ends in exit 2."""
    import errno

    from impact_bench import cli
    from impact_bench.cli import listing

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device", "/some/where/out.json")

    monkeypatch.setattr(listing, "main", full)
    parser = cli.build_parser()
    args = parser.parse_args(["list", "suites"])
    monkeypatch.setattr(cli, "build_parser", lambda: type("P", (), {"parse_args": lambda self, argv: args})())
    args.func = full
    assert cli.main(["list", "suites"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device (/some/where/out.json); free some space" in err and "Traceback" not in err
