from pathlib import Path

import pytest

from impact_bench.errors import TaskFileError
from impact_bench.suites.catalog import builtin_tasks_dir, get_suite
from impact_bench.suites.spec import load_suite_file


def test_dinos_matches_table2():
    spec = get_suite("dinos")
    assert [t.id for t in spec.tasks] == [f"T{i}" for i in range(1, 31)]
    assert sum(t.samples for t in spec.tasks) == 7528  # Table 2 total
    assert {p.name: len(p.tasks) for p in spec.problems} == {"RenishawL": 2, "VF2": 3, "Yornew": 17, "ColdSpray": 8}
    assert spec.task("T16").rpm == 12000 and spec.task("T16").chatter == "Y"
    assert spec.probe.seeds == 10 and spec.probe.train_fraction == 0.2 and spec.probe.hidden == 256
    assert not spec.synthetic and spec.audio.waveform_norm == "rms-zscore"


def test_synth_extends_dinos_and_is_marked_synthetic():
    real, synth = get_suite("dinos"), get_suite("dinos-synth")
    assert synth.synthetic and synth.comparable_to == "dinos-synth"
    assert synth.tasks == real.tasks and synth.problems == real.problems
    assert synth.reference.per_problem is None


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def test_bad_field_names_file_and_field(tmp_path):
    text = (builtin_tasks_dir() / "dinos.yaml").read_text().replace("train_fraction: 0.2", "train_fraction: 1.5")
    path = _write(tmp_path, text)
    with pytest.raises(TaskFileError) as err:
        load_suite_file(path)
    assert str(path) in str(err.value) and "probe.train_fraction" in str(err.value)


def test_unknown_field_and_task_reference_are_rejected(tmp_path):
    text = (builtin_tasks_dir() / "dinos.yaml").read_text()
    with pytest.raises(TaskFileError, match="seedz"):
        load_suite_file(_write(tmp_path, text.replace("  seeds: 10", "  seedz: 10")))
    with pytest.raises(TaskFileError, match="unknown task 'T99'"):
        load_suite_file(_write(tmp_path, text.replace("tasks: [T1, T2]", "tasks: [T1, T99]")))


def test_not_yaml_and_missing_parent(tmp_path):
    with pytest.raises(TaskFileError, match="not valid YAML"):
        load_suite_file(_write(tmp_path, "name: [unclosed"))
    with pytest.raises(TaskFileError, match="'extends' names 'nope.yaml'"):
        load_suite_file(_write(tmp_path, "extends: nope.yaml\n"))
