"""``impact-bench embed``: embeddings of arbitrary audio files, in input order, to an .npz."""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from tqdm import tqdm

from impact_bench import audio
from impact_bench.cache import atomic_write_bytes
from impact_bench.cli.run import add_common_encoder_args, encoder_options
from impact_bench.encoders.catalog import build_encoder
from impact_bench.errors import DataError, ResultsError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("embed", help="embed audio files or folders into an .npz (embeddings, files)",
                       description="Applies only the encoder's own pipeline (decode, downmix, resample to its rate) "
                                   "unless --waveform-norm is given. Arrays: embeddings (N, D) float32, files (N,).")
    add_common_encoder_args(p)
    p.add_argument("inputs", nargs="+", type=Path, help="audio files and/or folders (searched recursively)")
    p.add_argument("--out", type=Path, required=True, help="output .npz")
    p.add_argument("--waveform-norm", choices=["none", "rms-zscore"], default="none",
                   help="normalise each waveform first (rms-zscore = the DINOS protocol)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=main)


def collect(inputs: list[Path]) -> list[Path]:
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.suffix.lower() in audio.AUDIO_EXTENSIONS)
            if not found:
                raise DataError(f"{item}: folder holds no .wav/.flac files")
            files += found
        elif item.is_file():
            files.append(item)
        else:
            raise DataError(f"{item}: no such file or folder")
    return files


def main(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.overwrite:
        raise ResultsError(f"{args.out} exists; pass --overwrite to replace it")
    files = collect(args.inputs)
    enc = build_encoder(args.encoder, checkpoint=args.checkpoint, device=args.device,
                        options=encoder_options(args), autoload=not args.no_plugins)
    lo = int(np.ceil(enc.min_input_seconds * enc.sample_rate))
    hi = None if enc.max_input_seconds is None else int(enc.max_input_seconds * enc.sample_rate)
    rows = []
    for path in tqdm(files, desc=f"embedding ({enc.name})", unit="file"):
        wave, rate, _ = audio.read_audio(path)
        wave = audio.normalise(audio.resample(wave, rate, enc.sample_rate), args.waveform_norm)
        wave = audio.cut_clip(wave, max(lo, min(len(wave), hi or len(wave))))
        rows.append(enc.embed(wave[None, :].astype(np.float32))[0])
    buf = io.BytesIO()
    np.savez(buf, embeddings=np.stack(rows).astype(np.float32), files=np.array([str(f) for f in files]))
    atomic_write_bytes(args.out, buf.getvalue())
    print(f"wrote {args.out}: {len(rows)} × {enc.embedding_dim}")
    return 0
