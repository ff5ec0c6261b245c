"""Golden values for ``baselines/htsat.py`` (via ``clap.py`` and ``opera.py``) from LAION-CLAP's own ``htsat.py``.

Needs a LAION-AI/CLAP checkout (``src/laion_clap/clap_module/{htsat,feature_fusion,utils}.py``, CC0), the
torchlibrosa wheel (HTS-AT's front end; pure Python + librosa) and an OPERA checkout (``src/util.py``):

    pip download torchlibrosa==0.1.0 --no-deps
    python scripts/golden/htsat.py --clap-dir CLAP --torchlibrosa-wheel torchlibrosa-0.1.0-py3-none-any.whl \\
        --opera-dir OPERA

A small HTS-AT with the tiny model's structure (4 stages, window 8, 256 x 256 image, shifted windows, patch
merging) but width 8, and a 256-point STFT (the stored torchlibrosa kernels; hop 480 at 48 kHz as CLAP), is
built from the official class with every parameter and the bn0 statistics perturbed. Outputs:
- CLAP, non-fusion path: int16 round trip and "repeatpad" to 10 s (data.py's float32_to_int16 /
  int16_to_float32 / repeatpad lines), ``model({"waveform": …})["embedding"]``, then a projection
  Linear-ReLU-Linear and L2 normalisation (model.py's ``audio_projection``; ``get_audio_embedding``);
- OPERA-CT: OPERA's ``get_entire_signal_librosa(..., spectrogram=True, input_sec=8, pad=True)`` mel image →
  bn0 → ``reshape_wav2img`` → ``forward_features(...)["embedding"]``.
Writes tests/data/htsat_tiny_state.npz (the HTS-AT state dict incl. its buffers, and the projection; the tests
assemble the official CLAP and OPERA-CT checkpoint layouts from it) and tests/data/htsat_golden.npz.
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
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audiomae import _StubFinder  # noqa: E402
from opera import opera_util  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"


def load_htsat(clap_dir: Path) -> types.ModuleType:
    sys.meta_path.insert(0, _StubFinder())  # utils.py imports torchvision (FrozenBatchNorm2d) at the top
    for name in ("h5py", "wget"):
        sys.modules.setdefault(name, types.ModuleType(name))
    pkg = types.ModuleType("clapref")
    pkg.__path__ = [str(clap_dir / "src" / "laion_clap" / "clap_module")]
    sys.modules["clapref"] = pkg
    import importlib
    return importlib.import_module("clapref.htsat")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clap-dir", type=Path, required=True)
    ap.add_argument("--torchlibrosa-wheel", type=Path, required=True)
    ap.add_argument("--opera-dir", type=Path, required=True)
    args = ap.parse_args()
    site = Path(tempfile.mkdtemp())
    zipfile.ZipFile(args.torchlibrosa_wheel).extractall(site)
    sys.path.insert(0, str(site))
    util = opera_util(args.opera_dir)
    htsat = load_htsat(args.clap_dir)
    cfg = types.SimpleNamespace(sample_rate=48000, window_size=256, hop_size=480, mel_bins=64, fmin=50, fmax=14000,
                                class_num=10, model_name="tiny")
    torch.manual_seed(0)
    model = htsat.HTSAT_Swin_Transformer(spec_size=256, patch_size=4, patch_stride=(4, 4), num_classes=10,
                                         embed_dim=8, depths=[2, 2, 2, 2], num_heads=[1, 2, 4, 8], window_size=8,
                                         config=cfg).eval()
    proj = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32)).eval()
    with torch.no_grad():
        for name, p in list(model.named_parameters()) + list(proj.named_parameters()):
            if "extractor" not in name:  # the STFT kernels / filterbank stay exact
                p.add_(0.05 * torch.randn_like(p))
        model.bn0.running_mean.copy_(torch.randn(64) * 3 - 20)
        model.bn0.running_var.copy_(torch.rand(64) * 20 + 5)
    rng = np.random.default_rng(9)
    t48 = np.arange(72000) / 48000
    clap_waves = {"c1s": (0.3 * rng.standard_normal(48000)).astype(np.float32),
                  "c1_5s": (0.4 * np.sin(2 * np.pi * 440 * t48) + 0.05 * rng.standard_normal(len(t48))).astype(np.float32)}
    arrays: dict[str, np.ndarray] = {}
    with torch.no_grad():
        for key, w in clap_waves.items():
            x = (np.clip(w, -1.0, 1.0) * 32767.0).astype("int16")           # data.py float32_to_int16
            x = torch.from_numpy((x / 32767.0).astype("float32"))            # data.py int16_to_float32
            x = x.repeat(int(480000 / len(x)))                               # data.py repeatpad
            x = F.pad(x, (0, 480000 - len(x)), mode="constant", value=0)
            latent = model({"waveform": x[None]}, device="cpu")["embedding"]
            arrays[f"wave_{key}"] = w
            arrays[f"latent_{key}"] = latent[0].numpy()
            arrays[f"proj_{key}"] = F.normalize(proj(latent), dim=-1)[0].numpy()
    tmp = Path(tempfile.mkdtemp())
    ct_waves = {"o2s": 0.2 * rng.standard_normal(32000), "o8_5s": 0.1 * rng.standard_normal(136000)}
    with torch.no_grad():
        for key, w in ct_waves.items():
            sf.write(tmp / f"{key}.wav", w.astype(np.float32), 16000, subtype="FLOAT")
            import librosa
            arrays[f"wave_{key}"] = librosa.load(tmp / f"{key}.wav", sr=16000)[0]
            mel = util.get_entire_signal_librosa(str(tmp), key, spectrogram=True, input_sec=8, pad=True)
            x = torch.tensor(np.asarray(mel), dtype=torch.float)[None, None]
            x = model.bn0(x.transpose(1, 3)).transpose(1, 3)
            arrays[f"latent_{key}"] = model.forward_features(model.reshape_wav2img(x))["embedding"][0].numpy()
            arrays[f"frames_{key}"] = np.array(x.shape[2])
    sd = model.state_dict()
    # one compressed file (the attention-mask buffers are mostly zeros); tests/test_htsat.py writes the CLAP and
    # OPERA-CT checkpoint layouts from it: {'state_dict': {'module.audio_branch.<k>', 'module.audio_projection.<k>',
    # text-tower keys, logit scales}} and {'state_dict': {'encoder.encoder.htsat.<k>', Cola heads}}
    np.savez_compressed(DATA / "htsat_tiny_state.npz", **{f"htsat/{k}": v.numpy() for k, v in sd.items()},
                        **{f"proj/{k}": v.numpy() for k, v in proj.state_dict().items()})
    np.savez_compressed(DATA / "htsat_golden.npz", **arrays)
    print(f"wrote htsat_tiny_state.npz and htsat_golden.npz ({len(sd)} HTS-AT tensors)")


if __name__ == "__main__":
    main()
