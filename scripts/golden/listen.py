"""Golden values for ``baselines/listen.py`` / ``listen_nets.py`` from the LISTEN release's own code.

Runs the release's ``LISTEN_test_downstream.py`` (github.com/hanprd/LISTEN, HEAD 3f0718b) — its
``WavInferenceDataset`` (read, pad/crop, RMS + z-score, torchaudio mel + dB, scaling), its four
network classes and its ``AudioClassifier`` head — and its ``LISTEN_train_downstream.py``
``AudioDataset`` (the manifest reader honouring ``start_sample``). torchaudio 2.11 does not load
with torch 2.13, but its Python code runs when the compiled library is absent, so the wheel is
unpacked without ``torchaudio/lib/`` and put first on ``sys.path``:

    pip download torchaudio==2.11.0 --no-deps -d .whl
    python scripts/golden/listen.py --listen-dir /path/to/LISTEN --wheel .whl/torchaudio-2.11.0-…whl

Weights: every network and head gets :func:`impact_bench.checkpoints.seeded_state_dict` (drawn from
each key's name, so the test rebuilds the very same tensors in our modules without any file).
Inputs: four seeded 16-bit waveforms, written as WAV files in a release-style test tree; clip lengths
1 s, 1.5 s (cropped), 0.6 s (zero-padded) and a stereo 1-s clip (downmixed), plus one manifest row
with ``start_sample`` 12000. Writes ``tests/data/listen_golden.npz``: the int16 waveforms, the
release's spectrograms, every network's embeddings and every head's softmax probabilities.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from impact_bench.checkpoints import seeded_state_dict

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "listen_golden.npz"
SR = 48_000
ARCHS = {"listen": 0, "bc-resnet-3": 1, "mobilevit-xxs": 2, "mobilenetv4-small": 3}  # name → weight seed
N_CLASSES = 10


def waves() -> dict[str, np.ndarray]:
    """int16 test signals (NumPy's PCG64 stream is stable across versions)."""
    rng = np.random.default_rng(20261129)
    t = np.arange(int(1.5 * SR)) / SR
    tone = 0.3 * np.sin(2 * np.pi * 750 * t) + 0.05 * rng.standard_normal(len(t))
    noise = 0.1 * rng.standard_normal(SR)
    short = 0.2 * rng.standard_normal(int(0.6 * SR)) * np.hanning(int(0.6 * SR))
    stereo = np.stack([0.1 * rng.standard_normal(SR), 0.2 * np.sin(2 * np.pi * 3000 * t[:SR])], axis=1)
    to16 = lambda x: np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)  # noqa: E731
    return {"noise": to16(noise), "tone15": to16(tone), "short06": to16(short), "stereo": to16(stereo)}


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen-dir", type=Path, required=True, help="a clone of github.com/hanprd/LISTEN")
    ap.add_argument("--wheel", type=Path, help="torchaudio wheel (default: an importable torchaudio)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="listen-golden-"))
    if args.wheel:
        with zipfile.ZipFile(args.wheel) as zf:
            zf.extractall(tmp / "ta", [m for m in zf.namelist() if not m.startswith("torchaudio/lib/")])
        sys.path.insert(0, str(tmp / "ta"))
    import torchaudio
    test_mod = load_module(args.listen_dir / "LISTEN_test_downstream.py", "listen_release_test")
    train_mod = load_module(args.listen_dir / "LISTEN_train_downstream.py", "listen_release_train")

    signals = waves()
    test_dir = tmp / "test" / "Mode1"
    test_dir.mkdir(parents=True)
    for name, x in signals.items():
        sf.write(test_dir / f"{name}.wav", x, SR, subtype="PCM_16")
    cfg = test_mod.DistillConfig(device="cpu")
    ds = test_mod.WavInferenceDataset(tmp / "test", cfg)
    order = [Path(p).stem for p in ds.wav_paths]
    spec = torch.stack([ds[i]["spec"] for i in range(len(ds))])  # (4, 1, 128, 128)
    manifest = tmp / "train_list.csv"
    manifest.write_text(f"filepath,start_sample,label,class_name\n{test_dir / 'tone15.wav'},12000,2,Mode1\n")
    train_ds = train_mod.AudioDataset(manifest, train_mod.DistillConfig(device="cpu"))
    spec_offset = train_ds[0][0].unsqueeze(0)

    nets = {"listen": test_mod.DistillModel(cfg, cfg.distill_dim * cfg.multiplier),
            "bc-resnet-3": test_mod.BCResNet3_Student(192), "mobilevit-xxs": test_mod.MobileViT_XXS_Student(192),
            "mobilenetv4-small": test_mod.MobileNetV4Small_Student(192)}
    out = {f"wave_{k}": v for k, v in signals.items()}
    out.update(order=np.array(order), spec=spec.numpy(), spec_offset=spec_offset.numpy(),
               torchaudio=np.array(torchaudio.__version__))
    with torch.inference_mode():
        for name, net in nets.items():
            net.load_state_dict(seeded_state_dict(net.state_dict(), ARCHS[name]), strict=True)
            net.eval()
            emb = net(spec)
            head = test_mod.AudioClassifier(emb.shape[1], N_CLASSES)
            head.load_state_dict(seeded_state_dict(head.state_dict(), 100 + ARCHS[name]), strict=True)
            head.eval()
            out[f"emb_{name}"] = emb.numpy()
            out[f"emb_offset_{name}"] = net(spec_offset).numpy()
            out[f"prob_{name}"] = head(emb).softmax(dim=1).numpy()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} (torchaudio {torchaudio.__version__}; clips {order})")


if __name__ == "__main__":
    main()
