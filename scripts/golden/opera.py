"""Golden values for ``baselines/opera.py`` (OPERA-GT) from OPERA's own ``src/util.py`` and timm.

Needs an OPERA checkout (evelyn0414/OPERA, MIT), librosa (OPERA pins 0.10.1; the file records the version
used) and a timm wheel (its ViT blocks; torchvision imports are answered with stand-ins as in audiomae.py):

    python scripts/golden/opera.py --opera-dir OPERA --timm-wheel timm-1.0.15-py3-none-any.whl

Front end: OPERA's ``get_split_signal_librosa(..., spectrogram=True, input_sec=8.18)`` — librosa.load at 16 kHz,
silence trim, repeat padding, mel images — on three WAV files (1.5 s with silent edges, 0.5 s, 9 s: one
overlapping chunks plus a padded remainder). Model: a 2-block, 48-d ViT-S/4-shaped timm model with OPERA's
``forward_feature`` steps (sliced positional table, mean of patch tokens, then LayerNorm) on each image.
Writes tests/data/opera_gt_tiny.ckpt (a Lightning-style ``{'state_dict': …, 'epoch', 'global_step',
'pytorch-lightning_version'}`` with MAE decoder keys) and tests/data/opera_golden.npz.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import types
import zipfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audiomae import _StubFinder  # noqa: E402  (torchvision stand-ins for timm)

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"


def opera_util(opera_dir: Path) -> types.ModuleType:
    for name in ("torchaudio", "seaborn"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["torchaudio"].transforms = types.ModuleType("torchaudio.transforms")  # type: ignore[attr-defined]
    mod = types.ModuleType("opera_util")
    exec(compile((opera_dir / "src" / "util.py").read_text(), "src/util.py", "exec"), mod.__dict__)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opera-dir", type=Path, required=True)
    ap.add_argument("--timm-wheel", type=Path, required=True)
    args = ap.parse_args()
    import librosa
    util = opera_util(args.opera_dir)
    site = Path(tempfile.mkdtemp())
    zipfile.ZipFile(args.timm_wheel).extractall(site)
    sys.meta_path.insert(0, _StubFinder())
    sys.path.insert(0, str(site))
    from timm.models.vision_transformer import VisionTransformer

    rng = np.random.default_rng(5)
    t = np.arange(24000) / 16000
    waves = {
        "edges": np.concatenate([np.zeros(4000), 0.3 * np.sin(2 * np.pi * 700 * t[:16000]) * np.hanning(16000)
                                 + 0.02 * rng.standard_normal(16000), 1e-5 * rng.standard_normal(4000)]),
        "short": 0.2 * rng.standard_normal(8000),
        "long": 0.1 * rng.standard_normal(9 * 16000) * (1 + np.sin(2 * np.pi * 0.3 * np.arange(9 * 16000) / 16000)),
    }
    torch.manual_seed(0)
    vit = VisionTransformer(img_size=(256, 64), patch_size=4, in_chans=1, embed_dim=48, depth=2, num_heads=4,
                            mlp_ratio=4, qkv_bias=True, class_token=True, global_pool="token", num_classes=0).eval()
    with torch.no_grad():
        for p in vit.parameters():
            p.add_(0.05 * torch.randn_like(p))
    arrays: dict[str, np.ndarray] = {"librosa_version": np.array(librosa.__version__)}
    tmp = Path(tempfile.mkdtemp())
    for key, w in waves.items():
        sf.write(tmp / f"{key}.wav", w.astype(np.float32), 16000, subtype="FLOAT")
        arrays[f"wave_{key}"] = librosa.load(tmp / f"{key}.wav", sr=16000)[0]
        images = util.get_split_signal_librosa(str(tmp), key, spectrogram=True, input_sec=8.18)
        arrays[f"n_images_{key}"] = np.array(len(images))
        feats = []
        for i, img in enumerate(images):
            arrays[f"image_{key}_{i}"] = np.asarray(img, dtype=np.float32)
            x = torch.tensor(img, dtype=torch.float)[None, None]
            with torch.no_grad():  # OPERA forward_feature on timm modules
                tok = vit.patch_embed.proj(x).flatten(2).transpose(1, 2)
                tok = tok + vit.pos_embed[:, 1:tok.shape[1] + 1]
                cls = (vit.cls_token + vit.pos_embed[:, :1]).expand(1, -1, -1)
                tok = vit.blocks(torch.cat([cls, tok], dim=1))
                feats.append(vit.norm(tok[:, 1:].mean(dim=1))[0].numpy())
        arrays[f"emb_{key}"] = np.mean(feats, axis=0)
    decoder = {"mask_token": torch.zeros(1, 1, 32), "decoder_embed.weight": torch.randn(32, 48),
               "decoder_norm.weight": torch.ones(32)}
    torch.save({"state_dict": {**vit.state_dict(), **decoder}, "epoch": 3, "global_step": 300,
                "pytorch-lightning_version": "1.9.0"}, DATA / "opera_gt_tiny.ckpt")
    np.savez_compressed(DATA / "opera_golden.npz", **arrays)
    print("wrote opera_gt_tiny.ckpt and opera_golden.npz: " + ", ".join(f"{k} {int(arrays['n_images_' + k])} images"
                                                                       for k in waves))


if __name__ == "__main__":
    main()
