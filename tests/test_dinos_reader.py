import shutil

import numpy as np
import pytest

from impact_bench.errors import DataError
from impact_bench.suites import dinos
from impact_bench.suites.catalog import get_suite

from conftest import write_wav

SPEC = get_suite("dinos")


def _tasks(machine):
    return [t for t in SPEC.tasks if t.machine == machine]


@pytest.mark.parametrize("folder, task", [
    ("007-1.0_6.35_25.4_4000_chatter", "T12"),   # names known from the release (hanprd/DINOS src/unified_config.py)
    ("009-1.0_6.35_25.4_12000_chatter", "T14"),
    ("011-3.0_6.35_76.2_12000_chatter", "T16"),
    ("012-3.0_6.35_76.2_8000_chatter", "T21"),
    ("003-0.3_6.35_7.62_4000_stable", "T8"),
    ("099-3.0_6.35_76.2_11000_no_chatter", "T17"),
])
def test_yornew_folders_parse_to_tasks(folder, task):
    assert dinos.match_folder(folder, _tasks("Yornew")) == (task, "")


@pytest.mark.parametrize("machine, folder, task", [
    ("ColdSpray", "1-normal_stethoscope", "T23"), ("ColdSpray", "5-normal_mic", "T27"),
    ("ColdSpray", "8-no_gas_mic", "T30"), ("ColdSpray", "Powder clogging (stethoscope)", "T25"),
    ("ColdSpray", "depleted_microphone", "T28"),
    ("RenishawL", "On", "T1"), ("RenishawL", "off", "T2"),
    ("VF2", "Warm-up", "T5"), ("VF2", "idle", "T4"), ("VF2", "ON", "T3"),
])
def test_numbered_and_keyword_folders(machine, folder, task):
    assert dinos.match_folder(folder, _tasks(machine))[0] == task


def test_unmatched_yornew_parameters_explain_why():
    tid, why = dinos.match_folder("001-2.0_6.35_50.8_4000_chatter", _tasks("Yornew"))
    assert tid is None and "CD 2.0" in why


def test_scan_synthetic_tree(tiny_tree, synth_spec):
    index = dinos.scan(tiny_tree, synth_spec)
    assert len(index.clips) == 300  # 30 classes × 10 (the per-class minimum)
    assert {c.task for c in index.clips} == {f"T{i}" for i in range(1, 31)}
    assert {c.release_split for c in index.clips} == {"train", "test"}
    yornew = [c for c in index.clips if c.task == "T6"]
    assert {c.path.name.split("_")[0] for c in yornew} == {"steth", "mic"}  # sensors pooled in one class


def test_anomaly_and_unknown_machine_folders_are_skipped_with_notice(tree_copy, synth_spec):
    write_wav(tree_copy / "DINOS_Downstreams_train/ColdSpray_anomaly/x/a.wav", np.zeros(4800))
    write_wav(tree_copy / "DINOS_Downstreams_train/Lathe/x/a.wav", np.zeros(4800))
    index = dinos.scan(tree_copy, synth_spec)
    assert any("ColdSpray_anomaly" in n and "anomaly" in n for n in index.notices)
    assert any("Lathe" in n for n in index.notices)


def test_unknown_class_folder_lists_folder_and_unmatched_tasks(tree_copy, synth_spec):
    vf2 = tree_copy / "DINOS_Downstreams_train/VF2"
    (vf2 / "Warm-up").rename(vf2 / "Mode-7")
    shutil.rmtree(tree_copy / "DINOS_Downstreams_test/VF2/Warm-up")
    with pytest.raises(DataError) as err:
        dinos.scan(tree_copy, synth_spec)
    text = str(err.value)
    assert "Mode-7" in text and "still-unmatched task ids: T5" in text and "--class-map" in text


def test_class_map_override(tree_copy, synth_spec, tmp_path):
    vf2 = tree_copy / "DINOS_Downstreams_train/VF2"
    (vf2 / "Warm-up").rename(vf2 / "Mode-7")
    shutil.rmtree(tree_copy / "DINOS_Downstreams_test/VF2/Warm-up")
    cmap = tmp_path / "map.csv"
    cmap.write_text("machine,folder,task\nVF2,Mode-7,T5\n")
    index = dinos.scan(tree_copy, synth_spec, class_map=cmap)
    assert sum(c.task == "T5" for c in index.clips) == 8
    cmap.write_text("machine,folder,task\nVF2,Mode-7,T77\n")
    with pytest.raises(DataError, match="map.csv:2: field 'task'"):
        dinos.scan(tree_copy, synth_spec, class_map=cmap)


def test_empty_class_folder_is_an_error(tree_copy, synth_spec):
    folder = tree_copy / "DINOS_Downstreams_test/RenishawL/Off"
    for f in folder.iterdir():
        f.unlink()
    (tree_copy / "DINOS_Downstreams_test/RenishawL/Off/readme.txt").write_text("x")
    with pytest.raises(DataError, match="Off: class folder for T2 holds no .wav/.flac"):
        dinos.scan(tree_copy, synth_spec)


def test_missing_root_says_where_it_looked(tmp_path, synth_spec):
    with pytest.raises(DataError, match="DINOS_Downstreams_"):
        dinos.scan(tmp_path, synth_spec)


def test_subset_is_deterministic_and_spread(tiny_tree, synth_spec):
    a = dinos.scan(tiny_tree, synth_spec, max_clips_per_class=4)
    b = dinos.scan(tiny_tree, synth_spec, max_clips_per_class=4)
    assert a.subset and [c.relpath for c in a.clips] == [c.relpath for c in b.clips]
    assert len(a.clips) == 120
