"""HTS-AT (CLAP and OPERA-CT) vs LAION-CLAP's own htsat.py with torchlibrosa (scripts/golden/htsat.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from impact_bench.baselines.clap import int16_round_trip, repeat_pad
from impact_bench.baselines.htsat import HTSAT, HtsatConfig
from impact_bench.checkpoints import CheckpointError
from impact_bench.encoders.catalog import build_encoder
from impact_bench.errors import EncoderError

DATA = Path(__file__).parent / "data"
STATE = np.load(DATA / "htsat_tiny_state.npz")
GOLDEN = np.load(DATA / "htsat_golden.npz")
HTSAT_STATE = {k[len("htsat/"):]: torch.from_numpy(STATE[k]) for k in STATE.files if k.startswith("htsat/")}
PROJ_STATE = {k[len("proj/"):]: torch.from_numpy(STATE[k]) for k in STATE.files if k.startswith("proj/")}


def clap_file(tmp: Path, **extra: torch.Tensor) -> Path:
    """LAION-CLAP layout: {'state_dict': {'module.audio_branch.…', 'module.audio_projection.…', text tower, …}}."""
    sd = {**{f"module.audio_branch.{k}": v for k, v in HTSAT_STATE.items()},
          **{f"module.audio_projection.{k}": v for k, v in PROJ_STATE.items()},
          "module.text_branch.embeddings.word_embeddings.weight": torch.zeros(4, 8),
          "module.logit_scale_a": torch.tensor(2.0), "module.logit_scale_t": torch.tensor(2.0), **extra}
    torch.save({"state_dict": sd, "epoch": 45}, tmp / "630k-audioset-best.pt")
    return tmp / "630k-audioset-best.pt"


def opera_ct_file(tmp: Path) -> Path:
    sd = {**{f"encoder.encoder.htsat.{k}": v for k, v in HTSAT_STATE.items()},
          "g.weight": torch.zeros(8, 64), "g.bias": torch.zeros(8), "linear.weight": torch.zeros(8, 8)}
    torch.save({"state_dict": sd, "epoch": 1, "pytorch-lightning_version": "1.9.0"}, tmp / "encoder-operaCT.ckpt")
    return tmp / "encoder-operaCT.ckpt"


@pytest.mark.parametrize("embedding,prefix", [("projected", "proj"), ("latent", "latent")])
def test_clap_equals_laion_htsat(tmp_path, embedding, prefix):
    enc = build_encoder("clap", checkpoint=str(clap_file(tmp_path)), options={"embedding": embedding})
    assert enc.config["dropped_keys"] == 3 and enc.config["fusion"] is False
    for key in ("c1s", "c1_5s"):
        out = enc.embed(GOLDEN[f"wave_{key}"][None])[0]
        np.testing.assert_allclose(out, GOLDEN[f"{prefix}_{key}"], rtol=0, atol=1e-4)
    if embedding == "projected":
        assert enc.embedding_dim == 32 and np.linalg.norm(out) == pytest.approx(1.0, abs=1e-5)


def test_opera_ct_equals_operas_pipeline_on_laion_htsat(tmp_path):
    enc = build_encoder("opera-ct", checkpoint=str(opera_ct_file(tmp_path)))
    assert enc.embedding_dim == 64 and enc.config["heads_dropped"] == 3
    for key, frames in (("o2s", 251), ("o8_5s", 266)):  # 2 s padded to 8 s → 251 frames; 8.5 s whole → 266
        assert int(GOLDEN[f"frames_{key}"]) == frames
        np.testing.assert_allclose(enc.embed(GOLDEN[f"wave_{key}"][None])[0], GOLDEN[f"latent_{key}"], atol=1e-4)


def test_clap_input_handling():
    x = torch.tensor([0.5, -1.5, 1e-5, 0.99999])
    np.testing.assert_array_equal(int16_round_trip(x).numpy(),
                                  (np.array([16383, -32767, 0, 32766], dtype=np.float64) / 32767).astype(np.float32))
    y = repeat_pad(torch.ones(200000))
    assert y.shape == (480000,) and float(y[:400000].min()) == 1.0 and float(y[400000:].abs().max()) == 0.0


@pytest.mark.parametrize("name,cfg,keys,millions", [
    ("tiny", HtsatConfig(), 200, 31.33), ("tiny+fusion", HtsatConfig(fusion=True), 230, 31.34),
    ("base", HtsatConfig(embed_dim=128, depths=(2, 2, 12, 2)), 287, 72.42)])
def test_official_sizes(name, cfg, keys, millions):  # measured on LAION-CLAP's official clap_module/htsat.py
    with torch.random.fork_rng(devices=[]):
        model = HTSAT(cfg)
    assert len(model.state_dict()) == keys
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 2) == millions


def test_bad_files_are_clear_errors(tmp_path):
    bad = dict(HTSAT_STATE)
    bad["layers.0.blocks.1.attn_mask"] = bad["layers.0.blocks.1.attn_mask"] + 1.0
    torch.save({"state_dict": {f"module.audio_branch.{k}": v for k, v in bad.items()}
                | {f"module.audio_projection.{k}": v for k, v in PROJ_STATE.items()}}, tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="attn_mask differs"):
        build_encoder("clap", checkpoint=str(tmp_path / "m.pt"))
    torch.save({"state_dict": {"module.text_branch.x": torch.zeros(1)}}, tmp_path / "text.pt")
    with pytest.raises(CheckpointError, match="no audio_branch"):
        build_encoder("clap", checkpoint=str(tmp_path / "text.pt"))
    torch.save({"state_dict": {**{f"encoder.encoder.htsat.{k}": v for k, v in HTSAT_STATE.items()},
                               "projector.weight": torch.zeros(2)}}, tmp_path / "ct.ckpt")
    with pytest.raises(CheckpointError, match="unexpected: \\['projector.weight'\\]"):
        build_encoder("opera-ct", checkpoint=str(tmp_path / "ct.ckpt"))
    with pytest.raises(EncoderError, match="lukewys/laion_clap"):
        build_encoder("clap")


@pytest.mark.slow
def test_full_size_clap_file_loads_and_embeds(tmp_path):
    with torch.random.fork_rng(devices=[]):
        branch = HTSAT(HtsatConfig()).state_dict()
        proj = torch.nn.Sequential(torch.nn.Linear(768, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512)).state_dict()
    torch.save({"state_dict": {**{f"module.audio_branch.{k}": v for k, v in branch.items()},
                               **{f"module.audio_projection.{k}": v for k, v in proj.items()}}}, tmp_path / "c.pt")
    out = build_encoder("clap", checkpoint=str(tmp_path / "c.pt")).embed(np.zeros((2, 48000), dtype=np.float32))
    assert out.shape == (2, 512) and np.isfinite(out).all()


def test_fusion_file_loads_and_uses_the_htk_front_end(tmp_path):
    cfg = HtsatConfig(embed_dim=8, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8), n_fft=256, num_classes=10, fusion=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        state = HTSAT(cfg).state_dict()
    assert "patch_embed.fusion_model.global_att.1.weight" in state and "patch_embed.mel_conv2d.weight" in state
    torch.save({"state_dict": {**{f"module.audio_branch.{k}": v for k, v in state.items()},
                               **{f"module.audio_projection.{k}": v for k, v in PROJ_STATE.items()}}},
               tmp_path / "630k-fusion-best.pt")
    enc = build_encoder("clap", checkpoint=str(tmp_path / "630k-fusion-best.pt"))
    assert enc.config["fusion"] is True
    wave = torch.from_numpy(GOLDEN["wave_c1s"])
    mel = enc.model.mel(repeat_pad(int16_round_trip(wave))[None])
    assert mel.shape == (1, 1001, 64)  # torchaudio MelSpectrogram geometry: 1 + 480000 // 480 frames
    out = enc.embed(GOLDEN["wave_c1s"][None])
    assert out.shape == (1, 32) and np.linalg.norm(out) == pytest.approx(1.0, abs=1e-5)
