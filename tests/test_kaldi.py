"""Kaldi fbank vs torchaudio's own kaldi.py (golden file from scripts/golden/kaldi_fbank.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from impact_bench.kaldi import FbankConfig, fbank, mel_banks

GOLDEN = np.load(Path(__file__).parent / "data" / "kaldi_fbank_golden.npz")
CASES = json.loads(str(GOLDEN["meta"]))["cases"]
NOT_OFFERED = {"htk_compat", "use_energy"}  # no effect without energy (torchaudio kaldi.py); use_energy=False is ours


def _input(case: dict) -> torch.Tensor:
    w = torch.from_numpy(GOLDEN[f"wave_{case['wave']}"])
    if case["transform"] == "scale2^15":
        return w * 2**15
    return w - w.mean() if case["transform"] == "demean" else w


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_equals_torchaudio_kaldi_fbank(case):
    assert not {k for k, v in case["kwargs"].items() if k in NOT_OFFERED and k == "use_energy" and v}
    cfg = FbankConfig(**{k: v for k, v in case["kwargs"].items() if k not in NOT_OFFERED})
    ours = fbank(_input(case), cfg).numpy()
    ref = GOLDEN[f"out_{case['name']}"]
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4)


def test_batch_equals_one_by_one_and_frame_count():
    cfg = FbankConfig(num_mel_bins=128)
    x = torch.randn(3, 16000, generator=torch.Generator().manual_seed(0))
    out = fbank(x, cfg)
    assert out.shape == (3, 1 + (16000 - 400) // 160, 128)
    for b in range(3):
        torch.testing.assert_close(out[b], fbank(x[b], cfg), rtol=0, atol=1e-5)
    assert fbank(torch.zeros(399), cfg).shape == (0, 128)  # shorter than one frame: no frames


def test_banks_are_kaldi_triangles_and_dither_leaves_the_global_rng_alone():
    banks = mel_banks(FbankConfig(num_mel_bins=128))
    assert banks.shape == (128, 257) and float(banks[:, -1].abs().max()) == 0.0 and float(banks.max()) <= 1.0
    assert float(banks[:, 0].max()) == 0.0 and float(banks[0, 1]) > 0  # 0 Hz < low_freq 20 Hz < 31.25 Hz
    x = torch.randn(16000, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = fbank(x, FbankConfig(dither=1.0), generator=torch.Generator().manual_seed(1))
    assert torch.equal(before, torch.get_rng_state())
    b = fbank(x, FbankConfig(dither=1.0), generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.equal(a, fbank(x, FbankConfig()))


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="low_freq"):
        mel_banks(FbankConfig(low_freq=9000.0))
    with pytest.raises(ValueError, match=r"\(N,\) or \(B, N\)"):
        fbank(torch.zeros(1, 2, 100), FbankConfig())
