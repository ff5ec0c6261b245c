"""Measure the parameters and MACs per 1-s clip that the encoder cards (impact_bench/encoders/cards.py) store.

How: each built-in encoder is built at its official size from seeded random weights written in the official
checkpoint layout (the numbers do not depend on the weights' values), then one 1-s clip of noise at the
encoder's own sample rate goes through ``encoder.embed`` (batch 1) under ``torch.utils.flop_counter.
FlopCounterMode``. MACs = counted FLOPs / 2. Counted: what torch's FLOP counter knows — matrix products,
convolutions, attention (CPU scaled-dot-product attention is registered below; the counter lacks it) —
*including* front-end matrix products such as mel filterbanks; FFTs and element-wise work are not counted.
PyTorch's fused "fast path" of ``nn.MultiheadAttention`` / ``TransformerEncoderLayer`` is switched off while
measuring, because the counter cannot see inside it. Whatever the encoder does to a 1-s clip is what is
counted: AudioMAE pads to 1,024 frames, CLAP repeat-pads to 10 s, OPERA to 8 / 8.18 s.

Parameters: the distinct parameter tensors of the ``torch.nn.Module`` objects the encoder holds (buffers not
counted; tensors shared between layers once).

Usage:  python scripts/measure_card_costs.py [NAME ...] [--check]
  prints one line per encoder; --check exits 1 when a card's stored value differs from the measurement.
tests/test_model_cards.py imports this file and re-measures the cheap encoders (CHEAP).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

CHEAP = ("logmel-stats", "impact", "listen", "bc-resnet-3", "mobilevit-xxs", "mobilenetv4-small")
NOT_NEURAL = ("opensmile",)  # a C++ feature extractor: nothing for torch's counter to see

# BEATs iter3 / iter3+ 'cfg' (microsoft/unilm beats/BEATs.py BEATsConfig as stored in the released files;
# shared/facts/encoders.md §1.2); everything else is the adapter's CONFIG_DEFAULTS.
BEATS_ITER3 = {"input_patch_size": 16, "embed_dim": 512, "conv_bias": False, "encoder_layers": 12,
               "encoder_embed_dim": 768, "encoder_ffn_embed_dim": 3072, "encoder_attention_heads": 12,
               "layer_norm_first": False, "deep_norm": True, "conv_pos": 128, "conv_pos_groups": 16,
               "relative_position_embedding": True, "num_buckets": 320, "max_distance": 800, "gru_rel_pos": True,
               "finetuned_model": False}


def _state(module: Any) -> dict:
    return {k: v.clone() for k, v in module.state_dict().items()}


def _beats(tmp: Path) -> Any:
    import torch

    from impact_bench.baselines.beats import BEATs, beats_config
    path = tmp / "BEATs_iter3.pt"
    torch.save({"cfg": BEATS_ITER3, "model": _state(BEATs(beats_config(BEATS_ITER3, path)))}, path)
    return path, {}


def _audiomae(finetuned: bool) -> Callable[[Path], Any]:
    def write(tmp: Path) -> Any:  # ViT-B/16 on 1024 x 128 (AudioMAE README; shared/facts/encoders.md §2.2)
        import torch

        from impact_bench.baselines.vit import ViT
        vit = ViT(patch=16, dim=768, depth=12, heads=12, hidden=3072, tokens=512,
                  pooling_norm="fc_norm" if finetuned else "norm", num_classes=527 if finetuned else 0)
        path = tmp / ("finetuned.pth" if finetuned else "pretrained.pth")
        torch.save({"model": _state(vit)}, path)
        return path, {}
    return write


def _clap(tmp: Path) -> Any:  # HTS-AT tiny + 768 → 512 → 512 projection (630k-audioset-best.pt)
    import torch

    from impact_bench.baselines.htsat import HTSAT, HtsatConfig
    branch = HTSAT(HtsatConfig())
    proj = torch.nn.Sequential(torch.nn.Linear(768, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512))
    state = {**{f"module.audio_branch.{k}": v for k, v in _state(branch).items()},
             **{f"module.audio_projection.{k}": v for k, v in _state(proj).items()}}
    path = tmp / "630k-audioset-best.pt"
    torch.save({"state_dict": state}, path)
    return path, {}


def _opera_ct(tmp: Path) -> Any:  # HTS-AT tiny under Cola's prefix (encoder-operaCT.ckpt)
    import torch

    from impact_bench.baselines.htsat import HTSAT, HtsatConfig
    state = {f"encoder.encoder.htsat.{k}": v for k, v in _state(HTSAT(HtsatConfig())).items()}
    path = tmp / "encoder-operaCT.ckpt"
    torch.save({"state_dict": state}, path)
    return path, {}


def _opera_gt(tmp: Path) -> Any:  # MAE ViT-S/4 on 256 x 64, 1,024 patches (encoder-operaGT.ckpt)
    import torch

    from impact_bench.baselines.vit import ViT
    vit = ViT(patch=4, dim=384, depth=12, heads=6, hidden=1536, tokens=1024)
    path = tmp / "encoder-operaGT.ckpt"
    torch.save({"state_dict": _state(vit)}, path)
    return path, {}


def _vggish(tmp: Path) -> Any:
    import torch

    from impact_bench.baselines.vggish import VGGish
    path = tmp / "vggish-10086976.pth"
    torch.save(_state(VGGish()), path)
    return path, {}


def _seeded(tmp: Path) -> Any:  # the adapters' own untrained construction at the official size
    return None, {"random_init_seed": 0}


WRITERS: dict[str, Callable[[Path], Any]] = {
    "logmel-stats": lambda tmp: (None, {}),
    "impact": _seeded, "listen": _seeded, "bc-resnet-3": _seeded, "mobilevit-xxs": _seeded,
    "mobilenetv4-small": _seeded,
    "beats": _beats, "audiomae": _audiomae(False), "audiomae-ft": _audiomae(True), "clap": _clap,
    "opera-ct": _opera_ct, "opera-gt": _opera_gt, "vggish": _vggish,
}


def _cpu_sdpa_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:
    """CPU scaled-dot-product attention (absent from torch's FLOP registry): as the fused kernels count it."""
    from torch.utils.flop_counter import sdpa_flop_count
    return sdpa_flop_count(query, key, value)


def count_parameters(encoder: Any) -> int:
    import torch
    seen: dict[int, int] = {}
    for value in vars(encoder).values():
        if isinstance(value, torch.nn.Module):
            for p in value.parameters():
                seen[id(p)] = p.numel()
    return sum(seen.values())


def measure(name: str, tmp: Optional[Path] = None) -> tuple[Optional[int], Optional[int]]:
    """(parameters, MACs per 1-s clip) of one built-in encoder; (None, None) for the non-neural ones."""
    if name in NOT_NEURAL:
        return None, None
    if name not in WRITERS:
        raise KeyError(f"no measurement recipe for encoder {name!r}; add one to WRITERS in {__file__}")
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from impact_bench.encoders.catalog import build_encoder
    with tempfile.TemporaryDirectory() as own:
        folder = Path(tmp or own)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            path, options = WRITERS[name](folder)
        encoder = build_encoder(name, checkpoint=None if path is None else str(path), options=options)
    clip = np.random.default_rng(0).standard_normal((1, int(encoder.sample_rate))).astype(np.float32) * 0.1
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        mapping = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa_flops}
        with FlopCounterMode(display=False, custom_mapping=mapping) as counter:
            encoder.embed(clip)
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)
    return count_parameters(encoder), counter.get_total_flops() // 2


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="encoders to measure (default: every built-in)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a card's stored value differs")
    args = parser.parse_args(argv)
    import torch

    from impact_bench.encoders.cards import CARDS
    print(f"torch {torch.__version__}")
    bad = 0
    for name in args.names or list(CARDS):
        params, macs = measure(name)
        card = CARDS[name]
        stored = (card.cost.parameters, card.cost.macs_per_clip)
        same = stored == (params, macs)
        bad += not same
        print(f"{name:18s} parameters={params!s:>11s} macs_per_clip={macs!s:>14s}"
              f"{'' if same else f'   card says {stored}'}")
    return 1 if args.check and bad else 0


if __name__ == "__main__":
    sys.exit(main())
