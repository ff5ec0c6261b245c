"""OPERA-GT vs OPERA's own src/util.py front end (librosa) and timm blocks (scripts/golden/opera.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from impact_bench.baselines.opera import GT_SECONDS, chunks, mel_image, trim
from impact_bench.checkpoints import CheckpointError
from impact_bench.encoders.catalog import build_encoder
from impact_bench.errors import EncoderError

DATA = Path(__file__).parent / "data"
GOLDEN = np.load(DATA / "opera_golden.npz")
TINY = DATA / "opera_gt_tiny.ckpt"
KEYS = ("edges", "short", "long")  # silent edges trimmed; 0.5 s repeat-padded; 9 s: one window + padded rest


@pytest.mark.parametrize("key", KEYS)
def test_mel_images_equal_operas_pipeline(key):
    images = [mel_image(c).numpy() for c in chunks(trim(GOLDEN[f"wave_{key}"]))]
    assert len(images) == int(GOLDEN[f"n_images_{key}"])
    for i, img in enumerate(images):
        assert img.shape == (256, 64)
        np.testing.assert_allclose(img, GOLDEN[f"image_{key}_{i}"], rtol=0, atol=1e-5)


def test_trim_and_front_padding():
    y = GOLDEN["wave_edges"]
    assert len(trim(y)) == 16800  # 4000 silent samples in front, a faint tail: cut on the 800-sample grid
    c = chunks(np.arange(1, 1001, dtype=np.float32))[0]
    assert len(c) == int(GT_SECONDS * 16000) and c[-1] == 1000 and c[-1000] == 1  # the clip sits at the end
    np.testing.assert_array_equal(c[-2000:-1000], np.arange(1, 1001))  # preceded by its own repeats
    with pytest.raises(EncoderError, match="empty after silence trimming"):
        chunks(np.zeros(0, dtype=np.float32))


def test_embeddings_equal_golden():  # conformance: test_conformance.py
    enc = build_encoder("opera-gt", checkpoint=str(TINY), options={"num_heads": 4})
    assert enc.embedding_dim == 48 and enc.config["decoder_keys_dropped"] == 3
    for key in KEYS:
        np.testing.assert_allclose(enc.embed(GOLDEN[f"wave_{key}"][None])[0], GOLDEN[f"emb_{key}"], rtol=0, atol=1e-4)


def test_not_a_lightning_checkpoint_or_wrong_keys(tmp_path):
    torch.save({"model": {}}, tmp_path / "x.ckpt")
    with pytest.raises(CheckpointError, match="'state_dict'"):
        build_encoder("opera-gt", checkpoint=str(tmp_path / "x.ckpt"))
    obj = torch.load(TINY, weights_only=True)
    obj["state_dict"] = {f"encoder.{k}": v for k, v in obj["state_dict"].items()}  # prefixed: no silent random init
    torch.save(obj, tmp_path / "prefixed.ckpt")
    with pytest.raises(CheckpointError, match="no 'cls_token'"):
        build_encoder("opera-gt", checkpoint=str(tmp_path / "prefixed.ckpt"))
    with pytest.raises(EncoderError, match="encoder-operaGT.ckpt"):
        build_encoder("opera-gt")


def test_vit_s4_has_the_official_size():
    from impact_bench.baselines.vit import ViT
    with torch.random.fork_rng(devices=[]):
        vit = ViT(patch=4, dim=384, depth=12, heads=6, hidden=1536, tokens=1024)
    assert round(sum(p.numel() for p in vit.parameters()) / 1e6, 1) == 21.7  # OPERA mae_vit_small: encoder ≈ 21.7 M


@pytest.mark.slow
def test_full_size_opera_files_load_and_embed(tmp_path):
    from impact_bench.baselines.htsat import HTSAT, HtsatConfig
    from impact_bench.baselines.vit import ViT
    with torch.random.fork_rng(devices=[]):
        gt = ViT(patch=4, dim=384, depth=12, heads=6, hidden=1536, tokens=1024).state_dict()
        ct = HTSAT(HtsatConfig()).state_dict()
    torch.save({"state_dict": {**gt, "mask_token": torch.zeros(1, 1, 256)}}, tmp_path / "encoder-operaGT.ckpt")
    torch.save({"state_dict": {f"encoder.encoder.htsat.{k}": v for k, v in ct.items()}}, tmp_path / "encoder-operaCT.ckpt")
    wave = (0.1 * np.random.default_rng(0).standard_normal((1, 16000))).astype(np.float32)
    for name, f, dim in (("opera-gt", "encoder-operaGT.ckpt", 384), ("opera-ct", "encoder-operaCT.ckpt", 768)):
        out = build_encoder(name, checkpoint=str(tmp_path / f)).embed(wave)
        assert out.shape == (1, dim) and np.isfinite(out).all()
