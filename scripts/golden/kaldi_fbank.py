"""Golden values for ``impact_bench.kaldi.fbank`` from torchaudio's own ``compliance/kaldi.py``.

torchaudio does not import with torch 2.13, but ``kaldi.fbank`` is pure torch: its module only needs
``import torchaudio`` to succeed (``torchaudio.functional`` is used by ``mfcc``, not ``fbank``). This
script therefore executes torchaudio's ``kaldi.py`` file with an empty stand-in ``torchaudio`` module.
Where the file comes from (one of):

    python scripts/golden/kaldi_fbank.py --wheel torchaudio-2.11.0-cp311-cp311-manylinux_2_28_x86_64.whl
        (``pip download torchaudio==2.11.0 --no-deps`` fetches it from PyPI)
    python scripts/golden/kaldi_fbank.py --kaldi-py /path/to/torchaudio/compliance/kaldi.py
    python scripts/golden/kaldi_fbank.py            (a torchaudio installed in this environment)

Writes ``tests/data/kaldi_fbank_golden.npz``: the input waveforms (seeded), per case the options
passed to ``kaldi.fbank`` (JSON) and its output, and the sha256 of the kaldi.py that produced them.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "kaldi_fbank_golden.npz"
MEMBER = "torchaudio/compliance/kaldi.py"

# (name, waveform key, transform applied to the waveform first, kaldi.fbank keyword arguments)
CASES = [
    # BEATs.preprocess: x * 2**15, 128 bins, 16 kHz, 25/10 ms, every other option at its default (unilm BEATs.py)
    ("beats", "w16k", "scale2^15", dict(num_mel_bins=128, sample_frequency=16000, frame_length=25, frame_shift=10)),
    ("beats_min_length", "w2800", "scale2^15", dict(num_mel_bins=128, sample_frequency=16000, frame_length=25,
                                                      frame_shift=10)),
    # AudioMAE dataset.py::_wav2fbank: mean removal, hanning, htk_compat, no energy (AudioMAE)
    ("audiomae", "w16k", "demean", dict(htk_compat=True, sample_frequency=16000, use_energy=False,
                                         window_type="hanning", num_mel_bins=128, dither=0.0, frame_shift=10)),
    ("odd_length_hamming_mirror", "w12345", "none", dict(num_mel_bins=40, sample_frequency=16000, window_type="hamming",
                                                          snip_edges=False, low_freq=60.0, high_freq=-400.0,
                                                          subtract_mean=True)),
    ("rect_magnitude_no_pow2", "w12345", "none", dict(num_mel_bins=23, sample_frequency=8000, window_type="rectangular",
                                                       round_to_power_of_two=False, use_power=False,
                                                       preemphasis_coefficient=0.0, remove_dc_offset=False)),
    ("blackman_48k", "w48k", "none", dict(num_mel_bins=64, sample_frequency=48000, window_type="blackman",
                                           frame_length=20, frame_shift=8, high_freq=20000.0)),
]


def _source(args: argparse.Namespace) -> tuple[str, str]:
    if args.wheel:
        with zipfile.ZipFile(args.wheel) as zf:
            return zf.read(MEMBER).decode("utf-8"), Path(args.wheel).name
    if args.kaldi_py:
        return Path(args.kaldi_py).read_text(encoding="utf-8"), str(args.kaldi_py)
    spec = importlib.util.find_spec("torchaudio")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        sys.exit("no torchaudio here: pass --wheel or --kaldi-py")
    path = Path(list(spec.submodule_search_locations)[0]) / "compliance" / "kaldi.py"
    return path.read_text(encoding="utf-8"), str(path)


def add_kaldi_args(ap: argparse.ArgumentParser) -> None:
    """--wheel / --kaldi-py: where torchaudio's kaldi.py comes from (shared by the golden scripts)."""
    ap.add_argument("--wheel", type=Path, help="a torchaudio wheel (pip download torchaudio==2.11.0 --no-deps)")
    ap.add_argument("--kaldi-py", type=Path, help="a torchaudio/compliance/kaldi.py file")


def kaldi_from_args(args: argparse.Namespace) -> types.ModuleType:
    return load_kaldi(_source(args)[0])


def load_kaldi(text: str) -> types.ModuleType:
    sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
    mod = types.ModuleType("torchaudio_kaldi_reference")
    exec(compile(text, MEMBER, "exec"), mod.__dict__)
    return mod


def waveforms() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20_261_121)
    out = {}
    for key, n in (("w16k", 16000), ("w2800", 2800), ("w12345", 12345), ("w48k", 24000)):
        t = np.arange(n) / 16000
        x = 0.1 * rng.standard_normal(n) + 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05  # noise, tone, DC offset
        out[key] = np.clip(x, -1, 1).astype(np.float32)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_kaldi_args(ap)
    args = ap.parse_args()
    text, origin = _source(args)
    kaldi = load_kaldi(text)
    waves = waveforms()
    arrays: dict[str, np.ndarray] = {f"wave_{k}": v for k, v in waves.items()}
    meta = {"origin": origin, "kaldi_py_sha256": hashlib.sha256(text.encode()).hexdigest(), "cases": []}
    for name, key, transform, kwargs in CASES:
        w = torch.from_numpy(waves[key]).unsqueeze(0)
        if transform == "scale2^15":
            w = w * 2**15
        elif transform == "demean":
            w = w - w.mean()
        arrays[f"out_{name}"] = kaldi.fbank(w, **kwargs).numpy()
        meta["cases"].append({"name": name, "wave": key, "transform": transform, "kwargs": kwargs})
    arrays["meta"] = np.array(json.dumps(meta))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({len(CASES)} cases) from {origin}")


if __name__ == "__main__":
    main()
