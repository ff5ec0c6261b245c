"""Clips/s per adapter on CPU: 1-s clips at the adapter's rate, batch 16, full-size random weights in the
official layouts (throughput does not depend on the weight values). Reference measured in the same run:
``logmel-stats`` (one STFT per clip); the table reports clips/s and the ratio to it.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from impact_bench.encoders.catalog import build_encoder

BATCH = 16
RESULTS: dict[str, float] = {}


def _beats(tmp) -> str:
    from impact_bench.baselines.beats import BEATs, CONFIG_DEFAULTS
    cfg = {"input_patch_size": 16, "deep_norm": True, "relative_position_embedding": True, "max_distance": 800,
           "gru_rel_pos": True}
    with torch.random.fork_rng(devices=[]):
        torch.save({"cfg": cfg, "model": BEATs({**CONFIG_DEFAULTS, **cfg}).state_dict()}, tmp / "BEATs_iter3.pt")
    return str(tmp / "BEATs_iter3.pt")


def _vggish(tmp) -> str:
    from impact_bench.baselines.vggish import VGGish
    with torch.random.fork_rng(devices=[]):
        torch.save(VGGish().state_dict(), tmp / "vggish-10086976.pth")
    return str(tmp / "vggish-10086976.pth")


def _audiomae(tmp) -> str:
    from impact_bench.baselines.vit import ViT
    with torch.random.fork_rng(devices=[]):
        torch.save({"model": ViT(patch=16, dim=768, depth=12, heads=12, hidden=3072, tokens=512).state_dict()},
                   tmp / "pretrained.pth")
    return str(tmp / "pretrained.pth")


def _opera_gt(tmp) -> str:
    from impact_bench.baselines.vit import ViT
    with torch.random.fork_rng(devices=[]):
        torch.save({"state_dict": ViT(patch=4, dim=384, depth=12, heads=6, hidden=1536, tokens=1024).state_dict()},
                   tmp / "encoder-operaGT.ckpt")
    return str(tmp / "encoder-operaGT.ckpt")


def _htsat_state():
    from impact_bench.baselines.htsat import HTSAT, HtsatConfig
    with torch.random.fork_rng(devices=[]):
        return HTSAT(HtsatConfig()).state_dict()


def _clap(tmp) -> str:
    proj = torch.nn.Sequential(torch.nn.Linear(768, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512)).state_dict()
    torch.save({"state_dict": {**{f"module.audio_branch.{k}": v for k, v in _htsat_state().items()},
                               **{f"module.audio_projection.{k}": v for k, v in proj.items()}}}, tmp / "630k-best.pt")
    return str(tmp / "630k-best.pt")


def _opera_ct(tmp) -> str:
    torch.save({"state_dict": {f"encoder.encoder.htsat.{k}": v for k, v in _htsat_state().items()}},
               tmp / "encoder-operaCT.ckpt")
    return str(tmp / "encoder-operaCT.ckpt")


ADAPTERS = {"logmel-stats": None, "beats": _beats, "vggish": _vggish, "audiomae": _audiomae, "opera-gt": _opera_gt,
            "opera-ct": _opera_ct, "clap": _clap}


@pytest.mark.parametrize("name", list(ADAPTERS))
@pytest.mark.benchmark(group="adapters-1s-batch16")
def test_clips_per_second(benchmark, tmp_path, name):
    make = ADAPTERS[name]
    enc = build_encoder(name, checkpoint=make(tmp_path) if make else None)
    n = max(int(enc.sample_rate), int(np.ceil(enc.min_input_seconds * enc.sample_rate)))
    batch = (0.1 * np.random.default_rng(0).standard_normal((BATCH, n))).astype(np.float32)
    enc.embed(batch)  # warm-up
    benchmark.pedantic(enc.embed, args=(batch,), rounds=3, iterations=1)
    RESULTS[name] = BATCH / benchmark.stats.stats.min
    ref = RESULTS.get("logmel-stats")
    print(f"\n{name}: {RESULTS[name]:.1f} clips/s" + (f" ({RESULTS[name] / ref:.3f}x logmel-stats)" if ref else ""))
