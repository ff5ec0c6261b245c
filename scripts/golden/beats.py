"""Golden values for ``baselines/beats.py`` from the official BEATs code (microsoft/unilm ``beats/``).

Needs a checkout of the official files (BEATs.py, backbone.py, modules.py — MIT) and torchaudio's
``compliance/kaldi.py`` (see ``kaldi_fbank.py``; torchaudio itself need not import):

    python scripts/golden/beats.py --beats-dir unilm/beats --wheel torchaudio-2.11.0-…whl

Builds a tiny BEATs with the official classes (2 layers, 64-d, gated relative position bias,
DeepNorm — the iter3 structure at toy size), seeds and perturbs every parameter so no LayerNorm or
gate sits at its default, and writes ``tests/data/beats_tiny.pt`` in the official file layout
(``{'cfg': dict, 'model': state_dict}``) plus ``tests/data/beats_tiny_golden.npz``: input waveforms
and the official ``extract_features`` output (eval mode).
"""
from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kaldi_fbank import add_kaldi_args, kaldi_from_args  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
TINY_CFG = {  # iter3 keys and structure (unilm BEATsConfig), toy sizes
    "input_patch_size": 16, "embed_dim": 32, "conv_bias": False, "encoder_layers": 2, "encoder_embed_dim": 64,
    "encoder_ffn_embed_dim": 128, "encoder_attention_heads": 4, "activation_fn": "gelu", "layer_norm_first": False,
    "deep_norm": True, "conv_pos": 16, "conv_pos_groups": 4, "relative_position_embedding": True, "num_buckets": 32,
    "max_distance": 64, "gru_rel_pos": True, "layer_wise_gradient_decay_ratio": 0.6, "encoder_layerdrop": 0.05,
    "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "dropout_input": 0.0,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beats-dir", type=Path, required=True)
    add_kaldi_args(ap)
    args = ap.parse_args()
    kaldi = kaldi_from_args(args)
    pkg = sys.modules["torchaudio"]
    pkg.compliance = types.ModuleType("torchaudio.compliance")  # type: ignore[attr-defined]
    pkg.compliance.kaldi = kaldi  # type: ignore[attr-defined]
    sys.modules["torchaudio.compliance"], sys.modules["torchaudio.compliance.kaldi"] = pkg.compliance, kaldi
    sys.path.insert(0, str(args.beats_dir))
    from BEATs import BEATs, BEATsConfig  # the official classes

    torch.manual_seed(0)
    model = BEATs(BEATsConfig(TINY_CFG)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    rng = np.random.default_rng(7)
    waves = {"w1s": (0.2 * rng.standard_normal((2, 16000))).astype(np.float32),
             "w05s": np.clip(0.5 * np.sin(np.arange(8000) / 7.0) + 0.05 * rng.standard_normal(8000), -1, 1)
             .astype(np.float32)[None]}
    out = {}
    with torch.no_grad():
        for k, w in waves.items():
            out[f"out_{k}"] = model.extract_features(torch.from_numpy(w))[0].numpy()
    torch.save({"cfg": TINY_CFG, "model": model.state_dict()}, DATA / "beats_tiny.pt")
    np.savez_compressed(DATA / "beats_tiny_golden.npz", **{f"wave_{k}": v for k, v in waves.items()}, **out)
    print(f"wrote {DATA / 'beats_tiny.pt'} ({len(model.state_dict())} tensors) and beats_tiny_golden.npz")


if __name__ == "__main__":
    main()
