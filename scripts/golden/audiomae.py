"""Golden values for ``baselines/audiomae.py``: timm's VisionTransformer (the class AudioMAE builds on) fed by
AudioMAE's ``_wav2fbank`` steps on torchaudio's own ``kaldi.fbank``.

timm does not import without a torchvision built for this torch; ViT construction never touches torchvision,
so this script answers every ``torchvision`` import with an empty stand-in. Inputs:

    pip download timm==1.0.15 --no-deps; pip download torchaudio==2.11.0 --no-deps
    python scripts/golden/audiomae.py --timm-wheel timm-1.0.15-py3-none-any.whl --wheel torchaudio-2.11.0-…whl

Writes tests/data/audiomae_tiny_{pretrained,finetuned}.pth in AudioMAE's save_model layout
(``{'model': state_dict, 'args': argparse.Namespace, 'epoch': int}``; the pre-trained one with MAE decoder
keys) — a 2-block, 48-d ViT on the real 1024 x 128 input — and tests/data/audiomae_golden.npz: waveforms, the
reference model input, and both embeddings (pre-trained: mean of normed patch tokens; fine-tuned:
timm's ``forward_head(pre_logits=True)`` with global_pool='avg').
"""
from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import sys
import tempfile
import types
import zipfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kaldi_fbank import add_kaldi_args, kaldi_from_args  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
TINY = dict(img_size=(1024, 128), patch_size=16, in_chans=1, embed_dim=48, depth=2, num_heads=4, mlp_ratio=4,
            qkv_bias=True, class_token=True)


class _AnyMeta(type):
    def __getattr__(cls, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        return name


class _Stub(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return _AnyMeta(name, (), {})


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname == "torchvision" or fullname.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return _Stub(spec.name)

    def exec_module(self, module):
        module.__path__ = []


def reference_input(kaldi, wave: np.ndarray) -> torch.Tensor:
    """AudioMAE dataset.py::_wav2fbank (eval) + normalisation, on torchaudio's kaldi.fbank."""
    w = torch.from_numpy(wave)[None]
    w = w - w.mean()
    fb = kaldi.fbank(w, htk_compat=True, sample_frequency=16000, use_energy=False, window_type="hanning",
                     num_mel_bins=128, dither=0.0, frame_shift=10)
    p = 1024 - fb.shape[0]
    fb = torch.nn.ZeroPad2d((0, 0, 0, p))(fb) if p > 0 else fb[:1024]
    return ((fb - (-4.2677393)) / (4.5689974 * 2))[None, None]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timm-wheel", type=Path, required=True)
    add_kaldi_args(ap)
    args = ap.parse_args()
    kaldi = kaldi_from_args(args)
    site = Path(tempfile.mkdtemp())
    zipfile.ZipFile(args.timm_wheel).extractall(site)
    sys.meta_path.insert(0, _StubFinder())
    sys.path.insert(0, str(site))
    from timm.models.vision_transformer import VisionTransformer

    torch.manual_seed(0)
    pre = VisionTransformer(**TINY, global_pool="token", num_classes=0).eval()
    ft = VisionTransformer(**TINY, global_pool="avg", num_classes=5).eval()
    with torch.no_grad():
        for p in pre.parameters():
            p.add_(0.05 * torch.randn_like(p))
        ft_state = ft.state_dict()
        ft_state.update({k: v for k, v in pre.state_dict().items() if k in ft_state})
        ft.load_state_dict(ft_state)
        for name, p in ft.named_parameters():
            if name.startswith(("fc_norm", "head")):
                p.add_(0.05 * torch.randn_like(p))
    rng = np.random.default_rng(11)
    t = np.arange(16000) / 16000
    waves = {"w1s_a": (0.2 * rng.standard_normal(16000) + 0.1 * np.sin(2 * np.pi * 500 * t)).astype(np.float32),
             "w1s_b": (0.05 * rng.standard_normal(16000) + 0.3).astype(np.float32),
             "w10_5s": (0.1 * rng.standard_normal(168000)).astype(np.float32)}  # 1048 frames: cut to 1024
    arrays: dict[str, np.ndarray] = {}
    with torch.no_grad():
        for key, w in waves.items():
            x = reference_input(kaldi, w)
            arrays[f"wave_{key}"] = w
            if key == "w1s_a":  # one model input kept, for the front-end test
                arrays[f"input_{key}"] = x.numpy()
            arrays[f"pre_{key}"] = pre.forward_features(x)[:, 1:].mean(dim=1).numpy()
            arrays[f"ft_{key}"] = ft.forward_head(ft.forward_features(x), pre_logits=True).numpy()
    decoder = {"mask_token": torch.zeros(1, 1, 32), "decoder_embed.weight": torch.randn(32, 48),
               "decoder_embed.bias": torch.zeros(32), "decoder_norm.weight": torch.ones(32),
               "decoder_pred.weight": torch.randn(256, 32)}  # a few MAE decoder keys, dropped by the adapter
    ns = argparse.Namespace(model="mae_vit_base_patch16", norm_pix_loss=False)
    torch.save({"model": {**pre.state_dict(), **decoder}, "args": ns, "epoch": 32}, DATA / "audiomae_tiny_pretrained.pth")
    torch.save({"model": ft.state_dict(), "args": ns, "epoch": 59}, DATA / "audiomae_tiny_finetuned.pth")
    np.savez_compressed(DATA / "audiomae_golden.npz", **arrays)
    print(f"wrote audiomae_tiny_{{pretrained,finetuned}}.pth and audiomae_golden.npz ({len(waves)} waveforms)")


if __name__ == "__main__":
    main()
