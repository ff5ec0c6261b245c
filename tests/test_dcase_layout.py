"""DCASE file-name parsing on generated trees with the official names of every year."""
from __future__ import annotations

from pathlib import Path

import pytest

from impact_bench.anomaly.dcase_layout import parse_name, scan_machine
from impact_bench.errors import DataError


def _touch(root: Path, *names: str) -> None:
    for n in names:
        (root / n).parent.mkdir(parents=True, exist_ok=True)
        (root / n).write_bytes(b"")


def test_2020_ids_and_hidden_labels(tmp_path):
    _touch(tmp_path / "fan", "train/normal_id_00_00000000.wav", "test/anomaly_id_02_00000012.wav",
           "test/id_05_00000003.wav")
    clips = {c.path.name: c for c in scan_machine(2020, tmp_path / "fan")}
    assert clips["normal_id_00_00000000.wav"].unit == "id_00"
    assert clips["anomaly_id_02_00000012.wav"].label == "anomaly"
    eval_clip = clips["id_05_00000003.wav"]
    assert (eval_clip.unit, eval_clip.label, eval_clip.index) == ("id_05", None, 3)


def test_2021_source_and_target_test_folders(tmp_path):
    _touch(tmp_path / "gearbox", "train/section_00_target_train_normal_0002_v1pat_A1.wav",
           "source_test/section_01_source_test_anomaly_0099.wav", "target_test/section_03_target_test_0007.wav")
    clips = {c.path.name: c for c in scan_machine(2021, tmp_path / "gearbox")}
    tr = clips["section_00_target_train_normal_0002_v1pat_A1.wav"]
    assert (tr.domain, tr.attributes, tr.unit) == ("target", "v1pat_A1", "section_00")
    assert clips["section_01_source_test_anomaly_0099.wav"].label == "anomaly"
    ev = clips["section_03_target_test_0007.wav"]
    assert (ev.domain, ev.label) == ("target", None)


def test_2024_mixed_numbering_no_attribute_and_opaque_attributes(tmp_path):
    names = ["train/section_00_source_train_normal_0001_noAttribute.wav",   # dev: 1-based
             "train/section_00_source_train_normal_0000_mdl_A_spd_2.wav",   # BrushlessMotor: 0-based
             "train/section_00_target_train_normal_0010_ac_0.11_.wav",       # trailing underscore attribute
             "test/section_00_target_test_anomaly_0050_car_F1_spd_28V_mic_1_noise_6.wav",
             "test/section_00_0200.wav", "test/section_00_0000.wav"]         # eval test, both numberings
    _touch(tmp_path / "AirCompressor", *names)
    clips = {c.path.name: c for c in scan_machine(2024, tmp_path / "AirCompressor")}
    assert clips["section_00_source_train_normal_0001_noAttribute.wav"].attributes == "noAttribute"
    assert clips["section_00_target_train_normal_0010_ac_0.11_.wav"].attributes == "ac_0.11_"
    t = clips["section_00_target_test_anomaly_0050_car_F1_spd_28V_mic_1_noise_6.wav"]
    assert (t.domain, t.label, t.index, t.attributes) == ("target", "anomaly", 50, "car_F1_spd_28V_mic_1_noise_6")
    assert {clips["section_00_0200.wav"].index, clips["section_00_0000.wav"].index} == {200, 0}
    assert clips["section_00_0000.wav"].domain is None


def test_unmatched_and_missing_files_are_named(tmp_path):
    _touch(tmp_path / "fan", "train/section_00_source_train_normal_0000_a.wav", "test/fan_0001.wav")
    with pytest.raises(DataError, match=r"match no DCASE 2023 .* e\.g\. test/fan_0001\.wav"):
        scan_machine(2023, tmp_path / "fan")
    _touch(tmp_path / "valve", "train/section_00_source_train_normal_0000_a.wav")
    with pytest.raises(DataError, match="no test clips"):
        scan_machine(2023, tmp_path / "valve")
    assert parse_name(2023, "train", Path("section_00_0001.wav"), "fan") is None
