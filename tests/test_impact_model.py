"""IMPACT model: front end vs golden values, shapes, parameter counts, positions, masking, EMA, checkpoints."""
from __future__ import annotations

import argparse
import importlib.util
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from impact_bench.encoders.catalog import build_encoder
from impact_bench.errors import EncoderError
from impact_bench.features import MelSpectrogram, power_to_db
from impact_bench.impact.adapter import ImpactAdapter
from impact_bench.impact.checkpoint import CheckpointError, load_encoder
from impact_bench.impact.config import ConfigError, from_dict, preset
from impact_bench.impact.model import ImpactEncoder, SpecFrontend, parameter_count, sincos_2d
from impact_bench.impact.objective import ImpactStudent, ema_update, keep_indices, make_teacher, teacher_targets

GOLDEN = Path(__file__).parent / "data" / "impact_frontend_golden.npz"
SCRIPT = Path(__file__).parents[1] / "scripts" / "golden" / "impact_frontend.py"


def golden_inputs() -> np.ndarray:
    spec = importlib.util.spec_from_file_location("golden_impact_frontend", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.inputs()


def test_frontend_matches_golden_reference():
    g = np.load(GOLDEN)
    mel = MelSpectrogram(48_000, 2048, 376, 128, win_length=2048, f_max=24_000.0)
    power = mel(torch.from_numpy(golden_inputs())).numpy()
    assert power.shape == (3, 128, 128)
    rel = np.abs(power - g["power"]).max(axis=(1, 2)) / g["power"].max(axis=(1, 2))  # per clip, vs its peak
    assert rel.max() < 1e-5
    db = power_to_db(torch.from_numpy(power), top_db=80.0).numpy()
    assert np.abs(db - g["db"]).max() < 1e-2  # dB; float32 vs the reference's float64 on near-silent bins
    assert np.median(np.abs(db - g["db"])) < 1e-4
    # per-clip top_db: the silent tail of clip 3 sits exactly 80 dB under that clip's own peak
    assert db[2].min() == pytest.approx(db[2].max() - 80.0, abs=1e-3)


@pytest.mark.parametrize("name,wave_scale", [("reference", 1.0), ("paper", 1.0)])
def test_frontend_normalisation_per_preset(name, wave_scale):
    x = torch.from_numpy(golden_inputs())
    spec = SpecFrontend(preset(name).frontend)(x)
    assert spec.shape == (3, 1, 128, 128)
    db = power_to_db(MelSpectrogram(48_000, 2048, 376, 128)(x if name == "reference" else (
        (x / (x.pow(2).mean(-1, keepdim=True).sqrt() + 1e-6) - x.mean(-1, keepdim=True))
        / (x.std(-1, unbiased=False, keepdim=True) + 1e-6))))
    want = (db + 4.268) / (4.569 + 1e-6) if name == "reference" else (db + 80.0) / 160.0
    torch.testing.assert_close(spec[:, 0], want, rtol=1e-5, atol=1e-4)


def test_parameter_counts():
    assert parameter_count(ImpactEncoder(preset("reference"))) == 17_342_528  # hanprd/LISTEN README: IMPACT 17.3 M
    assert parameter_count(ImpactEncoder(preset("paper"))) == 17_342_528 + 64  # + BatchNorm(32) affine
    assert parameter_count(ImpactStudent(preset("reference"))) == 21_279_424  # + dd=256 feature decoder


def test_positions_are_fixed_mae_sincos_with_zero_cls_row():
    table = sincos_2d(384, 4, cls_row=True)[0]
    assert table.shape == (17, 384)
    assert torch.all(table[0] == 0)
    omega = 1.0 / 10000 ** (np.arange(96) / 96)
    r, c = 2, 3  # token index r * 4 + c
    row = table[1 + r * 4 + c].double().numpy()
    np.testing.assert_allclose(row[:96], np.sin(c * omega), atol=1e-6)
    np.testing.assert_allclose(row[96:192], np.cos(c * omega), atol=1e-6)
    np.testing.assert_allclose(row[192:288], np.sin(r * omega), atol=1e-6)
    np.testing.assert_allclose(row[288:], np.cos(r * omega), atol=1e-6)
    assert "pos_embed" not in ImpactEncoder(preset("reference")).state_dict()


@pytest.mark.parametrize("batch", [1, 7])
def test_forward_shapes(batch):
    enc = ImpactAdapter(random_init_seed=0)
    out = enc.embed(np.random.default_rng(0).standard_normal((batch, 48_000)).astype(np.float32) * 0.1)
    assert out.shape == (batch, 384) and out.dtype == np.float32 and np.isfinite(out).all()
    assert enc.model.patch_tokens(torch.zeros(batch, 1, 128, 128)).shape == (batch, 16, 384)


def test_masking_ratio_and_clones():
    rng = np.random.default_rng(0)
    for name, visible in (("reference", 3), ("paper", 4)):  # int(16 * 0.2) = 3, int(16 * 0.3) = 4
        cfg = preset(name)
        keep = keep_indices(cfg.grid, cfg.num_keep, cfg.objective.clones, cfg.objective.mask_block, rng)
        assert keep.shape == (16, visible)
        assert all(len(set(row)) == visible and list(row) == sorted(row) and row.max() < 16 for row in keep)
    counts = np.bincount(np.concatenate([keep_indices(4, 3, 16, 4, rng).ravel() for _ in range(500)]), minlength=16)
    assert counts.min() > 0.8 * counts.mean()  # block (4,4) on a 4x4 grid = uniform choice
    blocky = keep_indices(8, 10, 4, 2, np.random.default_rng(1))
    assert blocky.shape == (4, 10)


def test_ema_update_formula():
    cfg = preset("reference")
    student = ImpactStudent(cfg)
    teacher = make_teacher(student)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    ema_update(teacher, student, 0.996)
    for k, v in teacher.state_dict().items():
        torch.testing.assert_close(v, 0.996 * before[k] + 0.004 * student.state_dict()[k])
    assert not any(p.requires_grad for p in teacher.parameters())


def test_target_norm_options():
    cfg = preset("reference").replace(model={"embed_dim": 64, "depth": 3, "num_heads": 4})
    teacher = make_teacher(ImpactStudent(cfg))
    spec = torch.randn(3, 1, 128, 128)
    torch.testing.assert_close(teacher_targets(teacher, spec, "none"), teacher.layer_average(spec))
    y = teacher_targets(teacher, spec, "instance")
    assert y.shape == (3, 17, 64)
    torch.testing.assert_close(y.mean(-1), torch.zeros(3, 17), atol=1e-5, rtol=0)  # final layer norm per token
    torch.testing.assert_close(y.var(-1, unbiased=False), torch.ones(3, 17), atol=1e-3, rtol=0)
    with pytest.raises(ConfigError, match=re.escape("objective.target_norm: none | instance")):
        cfg.replace(objective={"target_norm": "batch"})


def test_utterance_target_options():
    from impact_bench.impact.objective import pretraining_loss
    cfg = preset("reference").replace(model={"embed_dim": 64, "depth": 2, "num_heads": 4},
                                      objective={"clones": 2, "decoder_dim": 32})
    student = ImpactStudent(cfg)
    teacher = make_teacher(student)
    spec = torch.randn(2, 1, 128, 128)
    rng = np.random.default_rng(0)
    keep = torch.as_tensor(np.stack([keep_indices(cfg.grid, cfg.num_keep, 2, 4, rng) for _ in range(2)]))
    tokens = student.patch_tokens(spec).repeat_interleave(2, dim=0)
    _, s_cls = student.forward_masked(tokens, keep.reshape(4, -1))
    y = teacher_targets(teacher, spec, "none")
    for target, want in (("cls", y[:, 0]), ("patch_mean", y[:, 1:].mean(dim=1))):
        student.cfg = cfg.replace(objective={"utterance_target": target})
        got = pretraining_loss(student, teacher, spec, keep)["utter"]
        expected = torch.nn.functional.mse_loss(s_cls, want.repeat_interleave(2, dim=0))
        torch.testing.assert_close(got, expected.detach())
    with pytest.raises(ConfigError, match=re.escape("objective.utterance_target: cls | patch_mean")):
        cfg.replace(objective={"utterance_target": "mean"})


def authors_state(e: int = 384, depth: int = 8, dd: int = 256) -> dict[str, torch.Tensor]:
    """An authors'-format student state dict built from the documented names/shapes (IMPACT_dist
    ``EATMAE``, hanprd/DINOS)."""
    g = torch.Generator().manual_seed(0)
    shapes = {"patch_embed.comp.weight": (32, 1, 3, 3), "patch_embed.comp.bias": (32,),
              "patch_embed.proj.weight": (e, 32, 16, 16), "patch_embed.proj.bias": (e,), "cls_token": (1, 1, e)}
    for i in range(depth):
        p = f"encoder.layers.{i}."
        shapes.update({p + "self_attn.in_proj_weight": (3 * e, e), p + "self_attn.in_proj_bias": (3 * e,),
                       p + "self_attn.out_proj.weight": (e, e), p + "self_attn.out_proj.bias": (e,),
                       p + "linear1.weight": (4 * e, e), p + "linear1.bias": (4 * e,),
                       p + "linear2.weight": (e, 4 * e), p + "linear2.bias": (e,),
                       p + "norm1.weight": (e,), p + "norm1.bias": (e,), p + "norm2.weight": (e,), p + "norm2.bias": (e,)})
    shapes.update({"decoder_embed.weight": (dd, e), "decoder_embed.bias": (dd,), "mask_token": (1, 1, dd)})
    for j in (0, 3, 6, 9, 12):
        shapes.update({f"decoder.net.{j}.weight": (dd, dd, 3, 3), f"decoder.net.{j}.bias": (dd,),
                       f"decoder.net.{j + 1}.weight": (dd,), f"decoder.net.{j + 1}.bias": (dd,)})
    shapes.update({"decoder.net.15.weight": (dd, e, 3, 3), "decoder.net.15.bias": (e,)})
    return {k: torch.randn(s, generator=g) * 0.02 for k, s in shapes.items()}


def save_authors(path: Path, state: dict[str, torch.Tensor]) -> Path:
    torch.save({"epoch": 10, "model_state_dict": state, "optimizer_state_dict": {},
                "metrics": {"loss": np.float64(0.12)}, "timestamp": "2025-07-01", "torch_version": torch.__version__},
               path)
    return path


def test_authors_checkpoint_loads_strictly(tmp_path):
    state = authors_state()
    path = save_authors(tmp_path / "impact_DINOS_epoch_0010.pth", state)
    model, info = load_encoder(path)
    assert info["checkpoint_format"] == "authors" and info["decoder_keys_dropped"] == 3 + 20 + 2
    assert info["preset"] == "reference" and model.cfg.model.num_heads == 12
    torch.testing.assert_close(model.state_dict()["encoder.layers.7.linear2.weight"], state["encoder.layers.7.linear2.weight"])
    student = ImpactStudent(preset("reference"))
    student.load_state_dict(state, strict=True)  # the documented names are exactly our student's
    # heads are not in the shapes: an override is honoured and changes the function
    enc12 = ImpactAdapter(checkpoint=str(path))
    enc16 = ImpactAdapter(checkpoint=str(path), num_heads=16)
    x = np.random.default_rng(1).standard_normal((2, 48_000)).astype(np.float32)
    assert enc16.model.cfg.model.num_heads == 16 and not np.allclose(enc12.embed(x), enc16.embed(x))
    assert enc12.checkpoint_sha256 and len(enc12.checkpoint_sha256) == 64
    # the 768/12 layout of config_impact.py is read from the shapes too
    big, _ = load_encoder(save_authors(tmp_path / "big.pth", authors_state(e=768, depth=12, dd=512)))
    assert big.cfg.model.embed_dim == 768 and big.cfg.model.depth == 12


def test_bad_checkpoint_lists_mismatches(tmp_path):
    state = authors_state()
    del state["encoder.layers.3.norm1.bias"]
    state["encoder.layers.0.extra.weight"] = torch.zeros(3)
    state["patch_embed.comp.weight"] = torch.zeros(32, 1, 5, 5)
    with pytest.raises(CheckpointError) as err:
        load_encoder(save_authors(tmp_path / "bad.pth", state))
    text = str(err.value)
    assert "missing (1): encoder.layers.3.norm1.bias" in text
    assert "unexpected (1): encoder.layers.0.extra.weight" in text
    assert "patch_embed.comp.weight: file (32, 1, 5, 5) vs model (32, 1, 3, 3)" in text
    with pytest.raises(CheckpointError, match="no 'cls_token'"):
        load_encoder(save_authors(tmp_path / "other.pth", {"w": torch.zeros(2)}))
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable torch checkpoint"):
        load_encoder(tmp_path / "junk.pth")


def test_pickle_checkpoints_need_trust(tmp_path):
    path = tmp_path / "pickled.pth"
    torch.save({"model_state_dict": authors_state(), "args": argparse.Namespace(lr=5e-5)}, path)
    with pytest.raises(CheckpointError, match=r"argparse\.Namespace.*--trust-checkpoint"):
        load_encoder(path)
    model, _ = load_encoder(path, trust=True)
    assert model.cfg.model.embed_dim == 384


def test_adapter_without_checkpoint_explains_what_to_do():
    with pytest.raises(EncoderError, match=r"impact-bench train.*impact_DINOS_epoch_0010\.pth"):
        build_encoder("impact")


def test_adapter_random_init_is_seeded():  # conformance of ImpactAdapter(random_init_seed=3): test_conformance.py
    enc = ImpactAdapter(random_init_seed=3)
    x = np.zeros((1, 48_000), np.float32)
    np.testing.assert_array_equal(enc.embed(x), ImpactAdapter(random_init_seed=3).embed(x))
    assert not np.allclose(enc.embed(x), ImpactAdapter(random_init_seed=4).embed(x))


def test_config_validation():
    cfg = preset("paper")
    assert from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match=r"unknown field\(s\) \['model.heads'\]"):
        from_dict({"model": {"heads": 16}})
    with pytest.raises(ConfigError, match="model.num_heads must be int"):
        from_dict({"model": {"num_heads": "16"}})
    with pytest.raises(ConfigError, match="divisible by num_heads"):
        cfg.replace(model={"num_heads": 7})
    with pytest.raises(ConfigError, match="unknown IMPACT preset"):
        preset("eat")
    assert math.isclose(preset("reference").frontend.spec_std, 4.569 + 1e-6)
