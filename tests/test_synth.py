import hashlib

import numpy as np

from impact_bench.synth import dinos_synth as ds
from impact_bench.synth.physics import SR
from impact_bench.synth.pretrain_synth import CATEGORIES, write_pretrain_synth


def _band_energy(x, lo, hi):
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return spec[(f >= lo) & (f < hi)].sum() / spec.sum()


def test_clips_are_deterministic(synth_spec):
    t = synth_spec.task("T16")
    assert np.array_equal(ds.synth_clip(t, 3, "microphone"), ds.synth_clip(t, 3, "microphone"))
    assert not np.array_equal(ds.synth_clip(t, 3, "microphone"), ds.synth_clip(t, 4, "microphone"))


def test_written_tree_is_byte_identical(tmp_path, synth_spec):
    def digest(root):
        return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(root.rglob("*.wav")))).hexdigest()
    a, b = tmp_path / "a", tmp_path / "b"
    sub = synth_spec.model_copy(update={"tasks": synth_spec.tasks[:2]})
    ds.write_dinos_synth(sub, a, 0.001, progress=False)
    ds.write_dinos_synth(sub, b, 0.001, progress=False)
    assert digest(a) == digest(b) and len(list(a.rglob("*.wav"))) == 20


def test_counts_follow_table2_times_scale(synth_spec):
    assert len(ds.plan(synth_spec)) == 7528
    counts = {}
    for c in ds.plan(synth_spec, 0.5):
        counts[c.task.id] = counts.get(c.task.id, 0) + 1
    assert counts["T23"] == 607 and counts["T18"] == 12


def test_physics_lpbf_build_peak_near_3khz(synth_spec):
    on = np.mean([_band_energy(ds.synth_clip(synth_spec.task("T1"), i), 2500, 3500) for i in range(5)])
    off = np.mean([_band_energy(ds.synth_clip(synth_spec.task("T2"), i), 2500, 3500) for i in range(5)])
    assert on > 3 * off


def test_physics_tooth_passing_peak(synth_spec):
    t = synth_spec.task("T8")  # 4000 rpm, two flutes → tooth passing at 133.3 Hz
    x = ds.synth_clip(t, 0, "stethoscope")
    spec = np.abs(np.fft.rfft(x))
    f = np.fft.rfftfreq(len(x), 1 / SR)
    band = (f > 100) & (f < 170)
    assert abs(f[band][np.argmax(spec[band])] - 4000 / 60 * 2) < 4


def test_physics_chatter_adds_mode_energy(synth_spec):
    chat = np.mean([_band_energy(ds.synth_clip(synth_spec.task("T16"), i, "stethoscope"), 2100, 2600) for i in range(6)])
    calm = np.mean([_band_energy(ds.synth_clip(synth_spec.task("T15"), i, "stethoscope"), 2100, 2600) for i in range(6)])
    assert chat > calm


def test_pretrain_corpus_layout(tmp_path):
    import soundfile as sf
    assert write_pretrain_synth(tmp_path, 1, progress=False) == 4
    files = sorted((tmp_path / "DINOS_Pretrain").rglob("*.wav"))
    assert [f.parent.name for f in files] == sorted(CATEGORIES)
    info = sf.info(str(files[0]))
    assert info.samplerate == 48_000 and abs(info.duration - 59) < 1e-6
