"""BEATs in plain torch vs the official code (golden file from scripts/golden/beats.py), strict
loading of the official file layout, and the adapter's contract."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from impact_bench.baselines.beats import BEATs, load_beats, relative_buckets
from impact_bench.checkpoints import CheckpointError
from impact_bench.encoders.catalog import build_encoder
from impact_bench.errors import EncoderError

DATA = Path(__file__).parent / "data"
TINY = DATA / "beats_tiny.pt"
GOLDEN = np.load(DATA / "beats_tiny_golden.npz")


@pytest.mark.parametrize("key,tokens", [("w1s", 48), ("w05s", 24)])  # 98 frames → 6 x 8 patches; 48 → 3 x 8
def test_equals_the_official_extract_features(key, tokens):
    model = load_beats(TINY)
    with torch.inference_mode():
        ours = model(torch.from_numpy(GOLDEN[f"wave_{key}"])).numpy()
    ref = GOLDEN[f"out_{key}"]
    assert ours.shape == ref.shape == (len(ref), tokens, 64)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4)


def test_adapter_embeds_the_token_mean():  # conformance (global RNGs untouched too): test_conformance.py
    enc = build_encoder("beats", checkpoint=str(TINY))
    assert enc.embedding_dim == 64 and enc.sample_rate == 16000 and len(enc.checkpoint_sha256) == 64
    emb = enc.embed(GOLDEN["wave_w1s"])
    np.testing.assert_allclose(emb, GOLDEN["out_w1s"].mean(axis=1), rtol=0, atol=1e-4)


def test_relative_buckets_are_t5_bidirectional():
    rel = torch.arange(-100, 101)
    b = relative_buckets(rel, 320, 800)
    assert b[100] == 0 and b[101] == 161 and b[99] == 1       # 0 → 0; +1 → half + 1; -1 → 1
    assert b[100 + 79] == 160 + 79 and b[100 - 79] == 79      # exact up to max_exact = 80
    assert b.max() < 320 and torch.all(b[101:] >= 160) and torch.all(b[:100] < 160)


def _state() -> dict:
    return torch.load(TINY, weights_only=True)


def test_missing_and_unexpected_keys_are_named(tmp_path):
    obj = _state()
    del obj["model"]["encoder.layers.1.fc2.bias"]
    obj["model"]["encoder.extra.weight"] = torch.zeros(1)
    torch.save(obj, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError) as err:
        load_beats(tmp_path / "bad.pt")
    assert "missing (1): encoder.layers.1.fc2.bias" in str(err.value)
    assert "unexpected (1): encoder.extra.weight" in str(err.value)


def test_bad_files_and_configs_are_clear_errors(tmp_path):
    torch.save({"model": {}}, tmp_path / "nocfg.pt")
    with pytest.raises(CheckpointError, match="'cfg' \\(dict\\) and 'model'"):
        load_beats(tmp_path / "nocfg.pt")
    obj = _state()
    obj["cfg"]["mystery_option"] = 1
    torch.save(obj, tmp_path / "cfg.pt")
    with pytest.raises(CheckpointError, match="mystery_option"):
        load_beats(tmp_path / "cfg.pt")
    obj = _state()
    key = "encoder.layers.1.self_attn.relative_attention_bias.weight"
    obj["model"][key] = obj["model"][key] + 1  # a new tensor: the file stores one storage for all layers
    torch.save(obj, tmp_path / "unshared.pt")
    with pytest.raises(CheckpointError, match="shares one relative-position table"):
        load_beats(tmp_path / "unshared.pt")
    with pytest.raises(EncoderError, match="BEATs_iter3.pt"):
        build_encoder("beats")


def test_finetuned_file_loads_its_predictor_and_embeds_the_same(tmp_path):
    obj = _state()
    obj["cfg"] = {**obj["cfg"], "finetuned_model": True, "predictor_class": 5}
    obj["model"]["predictor.weight"], obj["model"]["predictor.bias"] = torch.randn(5, 64), torch.randn(5)
    obj["label_dict"] = {0: "/m/09x0r"}
    torch.save(obj, tmp_path / "ft.pt")
    model = load_beats(tmp_path / "ft.pt")
    assert isinstance(model, BEATs) and model.predictor.weight.shape == (5, 64)
    enc = build_encoder("beats", checkpoint=str(tmp_path / "ft.pt"))
    np.testing.assert_allclose(enc.embed(GOLDEN["wave_w1s"]), GOLDEN["out_w1s"].mean(axis=1), atol=1e-4)
    assert enc.config["finetuned"] is True


def test_too_short_clip_is_a_clear_error():
    enc = build_encoder("beats", checkpoint=str(TINY))
    with pytest.raises(EncoderError, match="2800 samples"):
        enc.embed(np.zeros((1, 2000), dtype=np.float32))


def test_iter3_architecture_has_the_official_size():
    from impact_bench.baselines.beats import CONFIG_DEFAULTS
    cfg = {**CONFIG_DEFAULTS, "input_patch_size": 16, "deep_norm": True, "relative_position_embedding": True,
           "max_distance": 800, "gru_rel_pos": True}  # iter3 family (unilm BEATsConfig)
    with torch.random.fork_rng(devices=[]):
        model = BEATs(cfg)
    n = sum(p.numel() for p in model.parameters())  # the shared bias table counted once
    assert round(n / 1e6, 2) == 90.31 and len(model.state_dict()) == 250  # official BEATs.py: 90.31 M, 250 entries


@pytest.mark.slow
def test_full_size_random_checkpoint_in_the_official_layout_loads_and_embeds(tmp_path):
    from impact_bench.baselines.beats import CONFIG_DEFAULTS
    cfg = {"input_patch_size": 16, "deep_norm": True, "relative_position_embedding": True, "max_distance": 800,
           "gru_rel_pos": True, "encoder_layerdrop": 0.05, "layer_wise_gradient_decay_ratio": 0.6}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        state = BEATs({**CONFIG_DEFAULTS, **cfg}).state_dict()
    torch.save({"cfg": cfg, "model": state}, tmp_path / "BEATs_iter3.pt")
    enc = build_encoder("beats", checkpoint=str(tmp_path / "BEATs_iter3.pt"))
    out = enc.embed(np.random.default_rng(0).standard_normal((2, 16000)).astype(np.float32) * 0.1)
    assert out.shape == (2, 768) and np.isfinite(out).all()


def test_truncated_file_is_a_clear_error(tmp_path):
    data = TINY.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.pt: not a readable torch checkpoint"):
        load_beats(tmp_path / "cut.pt")
