"""AudioMAE vs timm's VisionTransformer on AudioMAE's own front-end steps (scripts/golden/audiomae.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from impact_bench.baselines.audiomae import features
from impact_bench.baselines.vit import ViT
from impact_bench.checkpoints import CheckpointError
from impact_bench.encoders.catalog import build_encoder
from impact_bench.errors import EncoderError

DATA = Path(__file__).parent / "data"
GOLDEN = np.load(DATA / "audiomae_golden.npz")
FILES = {"audiomae": DATA / "audiomae_tiny_pretrained.pth", "audiomae-ft": DATA / "audiomae_tiny_finetuned.pth"}
WAVES = ("w1s_a", "w1s_b", "w10_5s")  # two 1-s clips (zero-padded to 1024 frames), 10.5 s (cut to 1024)


def _enc(name: str, path: Path | None = None):
    return build_encoder(name, checkpoint=str(path or FILES[name]), options={"num_heads": 4})


def test_front_end_pads_in_the_log_domain_then_normalises():
    x = features(torch.from_numpy(GOLDEN["wave_w1s_a"])[None], 1024)
    assert x.shape == (1, 1, 1024, 128)
    np.testing.assert_allclose(x.numpy(), GOLDEN["input_w1s_a"], rtol=0, atol=1e-4)
    assert torch.allclose(x[0, 0, 98:], torch.tensor(4.2677393 / (2 * 4.5689974)))  # padded frames ≈ +0.467


@pytest.mark.parametrize("name,prefix", [("audiomae", "pre"), ("audiomae-ft", "ft")])
def test_embeddings_equal_timm(name, prefix):
    enc = _enc(name)
    assert enc.config["target_frames"] == 1024 and enc.embedding_dim == 48
    for key in WAVES:
        np.testing.assert_allclose(enc.embed(GOLDEN[f"wave_{key}"][None]), GOLDEN[f"{prefix}_{key}"], rtol=0, atol=1e-4)


def test_decoder_keys_dropped_and_variants_not_confused():
    assert _enc("audiomae").config["decoder_keys_dropped"] == 5
    with pytest.raises(CheckpointError, match="use --encoder audiomae-ft"):
        _enc("audiomae", FILES["audiomae-ft"])
    with pytest.raises(CheckpointError, match="use --encoder audiomae$"):
        _enc("audiomae-ft", FILES["audiomae"])
    with pytest.raises(CheckpointError, match="not divisible by num_heads=5"):
        build_encoder("audiomae", checkpoint=str(FILES["audiomae"]), options={"num_heads": 5})


def test_bad_checkpoints_are_clear_errors(tmp_path):
    obj = torch.load(FILES["audiomae"], weights_only=False)
    del obj["model"]["blocks.1.attn.qkv.bias"]
    obj["model"]["module.blocks.0.norm1.weight"] = torch.ones(48)  # a wrongly prefixed key
    torch.save(obj, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError) as err:
        _enc("audiomae", tmp_path / "bad.pth")
    assert "missing (1): blocks.1.attn.qkv.bias" in str(err.value)
    assert "unexpected (1): module.blocks.0.norm1.weight" in str(err.value)
    torch.save({"model": obj["model"], "args": EncoderError("x")}, tmp_path / "pickled.pth")
    with pytest.raises(CheckpointError, match="--trust-checkpoint"):
        _enc("audiomae", tmp_path / "pickled.pth")
    with pytest.raises(EncoderError, match="AudioMAE README"):
        build_encoder("audiomae")


def test_vit_b_has_the_official_size():
    with torch.random.fork_rng(devices=[]):
        vit = ViT(patch=16, dim=768, depth=12, heads=12, hidden=3072, tokens=512)
    assert round(sum(p.numel() for p in vit.parameters()) / 1e6, 2) == 85.65  # AudioMAE ViT-B/16, incl. pos_embed


@pytest.mark.slow
def test_full_size_random_checkpoints_load_and_embed(tmp_path):
    with torch.random.fork_rng(devices=[]):
        pre = ViT(patch=16, dim=768, depth=12, heads=12, hidden=3072, tokens=512).state_dict()
        ft = ViT(patch=16, dim=768, depth=12, heads=12, hidden=3072, tokens=512, pooling_norm="fc_norm",
                 num_classes=527).state_dict()
    torch.save({"model": {**pre, "mask_token": torch.zeros(1, 1, 512)}, "args": None}, tmp_path / "pretrained.pth")
    torch.save({"model": ft}, tmp_path / "finetuned.pth")
    for name, f in (("audiomae", "pretrained.pth"), ("audiomae-ft", "finetuned.pth")):
        out = build_encoder(name, checkpoint=str(tmp_path / f)).embed(np.zeros((2, 16000), dtype=np.float32))
        assert out.shape == (2, 768) and np.isfinite(out).all()
