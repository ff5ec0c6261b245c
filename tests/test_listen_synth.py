"""``listen-onsite-synth``: the generator writes what the LISTEN reader parses, deterministically."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import soundfile as sf

from impact_bench.cli import main as cli_main
from impact_bench.runner import RunRequest, run
from impact_bench.suites import listen
from impact_bench.suites.catalog import get_suite
from impact_bench.synth.catalog import write_suite_data
from impact_bench.synth.listen_synth import LONG_START, TEST_COUNTS

SUITE = "listen-onsite-synth"
SCALE = 0.1  # 2 training clips per class, round(real test count × 0.1) test clips


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("listen_synth")
    assert write_suite_data(get_suite(SUITE), root, SCALE, progress=False) == 20 + sum(
        max(2, round(c * SCALE)) for c in TEST_COUNTS.values())
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_reader_indexes_every_clip(tree):
    index = listen.scan(tree, get_suite(SUITE))
    assert not index.notices
    wavs = sorted(tree.rglob("*.wav"))
    assert len(index.clips) == len(wavs) and {c.path for c in index.clips} == set(wavs)
    with (tree / listen.TRAIN_DIR / listen.MANIFEST).open(newline="") as f:
        rows = list(csv.DictReader(f))
    train = [c for c in index.clips if c.release_split == "train"]
    assert len(train) == len(rows) == 20
    assert {c.task for c in train} == {t.id for t in get_suite(SUITE).tasks}
    long = [c for c in train if c.start > 0]
    assert len(long) == 10 and all(c.start == LONG_START and c.relpath.endswith(f"@{LONG_START}") for c in long)
    labels = {r["class_name"]: int(r["label"]) for r in rows}
    assert labels["Off"] == 0 and labels["On"] == 1 and labels["Mode8"] == 9  # the release's label numbers
    test = [c for c in index.clips if c.release_split == "test"]
    assert sum(c.task == "On" for c in test) == 30 and sum(c.task == "Mode1" for c in test) == 8


def test_files_are_48k_mono_pcm16(tree):
    for path in tree.rglob("*.wav"):
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype, info.format) == (48_000, 1, "PCM_16", "WAV")
        assert info.frames in (48_000, 72_000)
    assert not [p for p in tree.rglob("*") if ".tmp" in p.name]


def test_cli_regenerates_byte_identical_tree(tree, tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli_main(["data", "synth", "--suite", SUITE, "--out", str(out), "--scale", str(SCALE), "--quiet"]) == 0
    assert "wrote 122 files" in capsys.readouterr().out
    assert _files(out) == _files(tree)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.wav")}
    write_suite_data(get_suite(SUITE), out, SCALE, progress=False)  # existing files are kept
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.wav")} == before and _files(out) == _files(tree)


def test_logmel_stats_beats_chance(tree, tmp_path):
    path = run(RunRequest(encoder="logmel-stats", suite=SUITE, data_root=tree, out=tmp_path, seeds=2, standardize=True,
                          progress=False, use_cache=False), log=lambda _msg: None)
    res = json.loads(Path(path).read_text())
    assert res["problems"][0]["n_clips"] == 122
    assert res["problems"][0]["macro_f1"]["mean"] > 0.3  # chance: 0.1
