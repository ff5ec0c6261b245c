"""VGGish vs torchvggish's own front end and network (golden file from scripts/golden/vggish.py)."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from impact_bench.baselines.vggish import MIN_SAMPLES, VGGish, examples, mel_matrix
from impact_bench.checkpoints import CheckpointError
from impact_bench.encoders.catalog import build_encoder
from impact_bench.errors import EncoderError

GOLDEN = np.load(Path(__file__).parent / "data" / "vggish_golden.npz")
KEYS = ("sine3s", "noise", "min")


def recipe_state(shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """The weights of scripts/golden/vggish.py::recipe_state (same keys, seeds and scales)."""
    out = {}
    for i, key in enumerate(sorted(shapes)):
        g = torch.Generator().manual_seed(i)
        scale = 1 / math.sqrt(math.prod(shapes[key][1:])) if key.endswith("weight") else 0.01
        out[key] = torch.randn(shapes[key], generator=g) * scale
    return out


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("vggish") / "vggish-10086976.pth"
    torch.save(recipe_state({k: tuple(v.shape) for k, v in VGGish().state_dict().items()}), path)
    return path


@pytest.mark.parametrize("key", KEYS)
def test_examples_equal_torchvggish(key):
    ours = examples(torch.from_numpy(GOLDEN[f"wave_{key}"])).numpy()
    np.testing.assert_allclose(ours, GOLDEN[f"examples_{key}"], rtol=0, atol=1e-9)


def test_mel_matrix_is_htk_with_zero_dc_row():
    w = mel_matrix().numpy()
    assert w.shape == (257, 64) and not w[0].any() and w.max() <= 1.0
    assert np.all((w > 0).sum(axis=0) >= 1)  # every band has at least one bin (125-7500 Hz at 31.25 Hz)


def test_network_equals_torchvggish_with_and_without_final_relu(weights_file):
    state = torch.load(weights_file, weights_only=True)
    for relu in (False, True):
        model = VGGish(final_relu=relu).eval()
        model.load_state_dict(state)
        for key in KEYS:
            with torch.inference_mode():
                out = model(torch.from_numpy(GOLDEN[f"examples_{key}"]).float().unsqueeze(1)).numpy()
            np.testing.assert_allclose(out, GOLDEN[f"{'relu' if relu else 'pre'}_{key}"], rtol=0, atol=1e-4)


def test_adapter_means_examples_and_postprocesses(weights_file, tmp_path):
    enc = build_encoder("vggish", checkpoint=str(weights_file))
    assert enc.min_input_seconds == pytest.approx(0.975) and MIN_SAMPLES == 15600
    emb = enc.embed(GOLDEN["wave_sine3s"][None].astype(np.float32))
    np.testing.assert_allclose(emb[0], GOLDEN["pre_sine3s"].mean(axis=0), rtol=0, atol=1e-3)
    np.savez(tmp_path / "vggish_pca_params.npz", pca_eigen_vectors=np.eye(128), pca_means=np.zeros(128))
    q = build_encoder("vggish", checkpoint=str(weights_file), options={"pca": str(tmp_path / "vggish_pca_params.npz")})
    got = q.embed(GOLDEN["wave_min"][None].astype(np.float32))[0]
    want = np.round((np.clip(GOLDEN["pre_min"][0], -2, 2) + 2) * 255 / 4)  # one example: no averaging
    np.testing.assert_allclose(got, want, atol=1.0)  # float32 rounding may flip a .5 boundary
    with pytest.raises(EncoderError, match="15600 samples"):
        enc.embed(np.zeros((1, 8000), dtype=np.float32))


def test_strict_loading_and_missing_checkpoint(tmp_path):
    bad = recipe_state({k: tuple(v.shape) for k, v in VGGish().state_dict().items()})
    bad["embeddings.6.weight"] = torch.zeros(1)  # torchvggish's layout has no ReLU weights; nothing else either
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match=r"unexpected \(1\): embeddings.6.weight"):
        build_encoder("vggish", checkpoint=str(tmp_path / "bad.pth"))
    with pytest.raises(EncoderError, match="vggish-10086976.pth"):
        build_encoder("vggish")


@pytest.mark.skipif(not os.environ.get("IMPACT_BENCH_VGGISH_CHECKPOINT"), reason="needs the released torchvggish weights")
def test_smoke_test_with_the_released_weights():
    """TF vggish_smoke_test.py: 3-s 1-kHz sine → 3 examples, raw embedding mean 0.000657, std 0.343 (rtol 0.1)."""
    enc = build_encoder("vggish")
    ex = examples(torch.from_numpy(GOLDEN["wave_sine3s"])).float().unsqueeze(1)
    with torch.inference_mode():
        raw = enc.model(ex).numpy()
    assert raw.shape == (3, 128)
    assert raw.mean() == pytest.approx(0.000657, rel=0.1, abs=1e-4) and raw.std() == pytest.approx(0.343, rel=0.1)
