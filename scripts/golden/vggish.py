"""Golden values for ``baselines/vggish.py`` from torchvggish's own code (harritaylor/torchvggish, Apache-2.0).

Needs a checkout of torchvggish (its ``torchvggish/`` folder; ``resampy`` is stubbed — inputs are 16 kHz):

    python scripts/golden/vggish.py --torchvggish-dir path/to/torchvggish-repo

Writes ``tests/data/vggish_golden.npz``: three waveforms (the TF smoke test's 3-s 1-kHz sine, 2.5 s of
seeded noise, exactly 0.975 s), torchvggish's ``waveform_to_examples`` for each, and the official
``VGG`` network's output on them with weights drawn by ``recipe_state`` (documented there; the test
rebuilds the same weights) — once as torchvggish runs it (final ReLU) and once without that ReLU
(TensorFlow's pre-activation embedding).
"""
from __future__ import annotations

import argparse
import math
import sys
import types
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "vggish_golden.npz"


def recipe_state(shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """Key i in sorted order: weights N(0, 1/fan_in) and biases N(0, 0.01²) from Generator seed i."""
    out = {}
    for i, key in enumerate(sorted(shapes)):
        g = torch.Generator().manual_seed(i)
        shape = shapes[key]
        scale = 1 / math.sqrt(math.prod(shape[1:])) if key.endswith("weight") else 0.01
        out[key] = torch.randn(shape, generator=g) * scale
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--torchvggish-dir", type=Path, required=True)
    args = ap.parse_args()
    sys.modules.setdefault("resampy", types.ModuleType("resampy"))
    sys.path.insert(0, str(args.torchvggish_dir))
    from torchvggish import vggish, vggish_input  # the official modules

    t = np.arange(3 * 16000) / 16000
    rng = np.random.default_rng(3)
    waves = {"sine3s": np.sin(2 * np.pi * 1000 * t), "noise": 0.3 * rng.standard_normal(40000),
             "min": 0.2 * np.sin(2 * np.pi * 300 * np.arange(15600) / 16000)}
    model = vggish.VGG(vggish.make_layers()).eval()
    model.load_state_dict(recipe_state({k: tuple(v.shape) for k, v in model.state_dict().items()}))
    arrays: dict[str, np.ndarray] = {}
    for key, w in waves.items():
        ex = vggish_input.waveform_to_examples(w, 16000, return_tensor=False)
        with torch.no_grad():
            x = torch.tensor(ex, dtype=torch.float32)[:, None]
            relu = model(x).numpy()
            feats = model.features(x).permute(0, 2, 3, 1).reshape(len(x), -1)
            pre = model.embeddings[:5](feats).numpy()
        arrays.update({f"wave_{key}": w, f"examples_{key}": ex, f"relu_{key}": relu, f"pre_{key}": pre})
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT}: " + ", ".join(f"{k} {arrays['examples_' + k].shape[0]} examples" for k in waves))


if __name__ == "__main__":
    main()
