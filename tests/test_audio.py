import numpy as np
import pytest
import soundfile as sf

from impact_bench import audio
from impact_bench.errors import DataError

from conftest import write_wav


def test_rms_zscore_formula_and_silence():
    x = np.array([[0.0, 1.0, -1.0, 2.0]], dtype=np.float32)
    rms = np.sqrt(np.mean(x.astype(np.float64) ** 2))
    expected = (x / (rms + 1e-6) - x.mean()) / (x.std() + 1e-6)
    np.testing.assert_allclose(audio.rms_zscore(x), expected, rtol=1e-6)
    silent = audio.rms_zscore(np.zeros((2, 100), np.float32))
    assert np.isfinite(silent).all() and not silent.any()


def test_cut_clip_pads_and_crops():
    assert audio.cut_clip(np.ones(5), 8).tolist() == [1, 1, 1, 1, 1, 0, 0, 0]
    assert audio.cut_clip(np.arange(10), 4).tolist() == [0, 1, 2, 3]
    assert audio.cut_clip(np.arange(10), 4, "center").tolist() == [3, 4, 5, 6]


def test_multichannel_is_downmixed_and_rate_resampled(tmp_path):
    t = np.arange(16_000) / 16_000
    left, right = np.sin(2 * np.pi * 440 * t), np.zeros_like(t)
    path = write_wav(tmp_path / "st.wav", np.stack([left, right], 1) * 0.5, 16_000)
    clip, info = audio.load_clip(path, 48_000, 1.0)
    assert info.channels == 2 and info.sample_rate == 16_000 and clip.shape == (48_000,)
    spectrum = np.abs(np.fft.rfft(clip))
    assert abs(np.argmax(spectrum) - 440) <= 1  # 1-Hz bins at 48 kHz / 48 000 samples
    assert 0.2 < np.abs(clip).max() < 0.3  # mean of 0.5·sin and 0


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "does not exist"),
    (lambda p: p.write_bytes(b""), "cannot decode"),
    (lambda p: p.write_bytes(b"this is not audio at all" * 10), "cannot decode"),
    (lambda p: p.write_bytes(open(write_wav(p.with_name("ok.wav"), np.zeros(4800)), "rb").read()[:30]), "cannot decode"),
    (lambda p: write_wav(p, np.array([0.0, np.nan, 0.1] * 100)), "NaN/Inf"),
    (lambda p: write_wav(p, np.array([0.0, np.inf, 0.1] * 100)), "NaN/Inf"),
])
def test_bad_audio_names_the_file(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(DataError, match=message) as err:
        audio.read_audio(path)
    assert str(path) in str(err.value)


def test_header_only_wav_is_empty(tmp_path):
    path = write_wav(tmp_path / "empty.wav", np.zeros(0))
    with pytest.raises(DataError, match="(no samples|cannot decode)"):
        audio.read_audio(path)


@pytest.mark.parametrize("seconds,expected", [(10.0, 1), (3.0, 1), (12.0, 1), (16.0, 2), (20.0, 2), (25.0, 3)])
def test_windows_cover_the_clip_and_drop_only_short_tails(seconds, expected):
    rate = 100
    wave = np.arange(int(seconds * rate), dtype=np.float32) + 1
    w = audio.windows(wave, 10 * rate)
    assert w.shape == (expected, 10 * rate)
    kept = min(len(wave), expected * 10 * rate)
    np.testing.assert_array_equal(w.reshape(-1)[:kept], wave[:kept])   # in order, no overlap
    assert not w.reshape(-1)[kept:].any()                             # zero padding only at the end


def test_channel_selection_reads_one_channel(tmp_path):
    data = np.stack([np.full(800, 0.1), np.full(800, -0.3)], axis=1).astype(np.float32)
    sf.write(tmp_path / "two.wav", data, 8000, subtype="FLOAT")
    left, _, ch = audio.read_audio(tmp_path / "two.wav", channel=0)
    mean, _, _ = audio.read_audio(tmp_path / "two.wav")
    assert ch == 2 and np.allclose(left, 0.1) and np.allclose(mean, -0.1)
    with pytest.raises(DataError, match="two.wav: has 2 channel"):
        audio.read_audio(tmp_path / "two.wav", channel=5)
