"""``impact-bench embed``: embeddings of arbitrary audio files, in input order, to an .npz."""
from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import TYPE_CHECKING

from impact_bench.cli.run import add_common_encoder_args
from impact_bench.errors import DataError, EncoderError, ResultsError

if TYPE_CHECKING:
    import numpy as np


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("embed", help="embed audio files or folders into an .npz (embeddings, files)",
                       description="Per file: decode, downmix, resample to the encoder's rate, pad/crop to its input "
                                   "limits, the waveform normalisation (--waveform-norm), then the encoder's own "
                                   "pipeline. Arrays: embeddings (N, D) float32, files (N,).")
    add_common_encoder_args(p)
    p.add_argument("inputs", nargs="+", type=Path, help="audio files and/or folders (searched recursively)")
    p.add_argument("--out", type=Path, required=True, help="output .npz")
    p.add_argument("--waveform-norm", choices=["auto", "none", "rms-zscore", "rms-zscore-ddof1"], default="auto",
                   help="normalise each clip after pad/crop: auto (default) = what the encoder's own release "
                        "applies before its front end (LISTEN family: rms-zscore-ddof1, as suite listen-onsite), "
                        "else none; rms-zscore = the DINOS protocol")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=main)


def collect(inputs: list[Path]) -> list[Path]:
    from impact_bench import audio

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
    import numpy as np
    from tqdm import tqdm

    from impact_bench import audio
    from impact_bench.cache import atomic_write_bytes
    from impact_bench.cli.run import encoder_options
    from impact_bench.encoders.catalog import build_encoder

    if args.out.exists() and not args.overwrite:
        raise ResultsError(f"{args.out} exists; pass --overwrite to replace it")
    files = collect(args.inputs)
    enc = build_encoder(args.encoder, checkpoint=args.checkpoint, device=args.device,
                        options=encoder_options(args), autoload=not args.no_plugins)
    norm = args.waveform_norm
    if norm == "auto":
        norm = getattr(enc, "input_waveform_norm", None) or "none"
    lo = int(np.ceil(enc.min_input_seconds * enc.sample_rate))
    hi = None if enc.max_input_seconds is None else int(enc.max_input_seconds * enc.sample_rate)
    if args.batch_size < 1:
        raise DataError(f"--batch-size must be ≥ 1, got {args.batch_size}")
    rows: list[np.ndarray] = []
    pending: list[np.ndarray] = []

    def flush() -> None:
        if pending:
            out = np.asarray(enc.embed(np.stack(pending).astype(np.float32)))
            bad = [str(files[len(rows) + i]) for i, r in enumerate(out) if not np.isfinite(r).all()]
            if bad:
                raise EncoderError(f"encoder {enc.name!r} produced NaN/Inf embeddings for {bad[:5]}; nothing written")
            rows.extend(out)
            pending.clear()

    for path in tqdm(files, desc=f"embedding ({enc.name})", unit="file"):
        wave, rate, _ = audio.read_audio(path)
        wave = audio.resample(wave, rate, enc.sample_rate)  # as `run`: cut the clip, then normalise it
        wave = audio.normalise(audio.cut_clip(wave, max(lo, min(len(wave), hi or len(wave)))), norm)
        if pending and (len(pending) >= args.batch_size or pending[0].shape != wave.shape):
            flush()
        pending.append(wave)
    flush()
    buf = io.BytesIO()
    np.savez(buf, embeddings=np.stack(rows).astype(np.float32), files=np.array([str(f) for f in files]))
    atomic_write_bytes(args.out, buf.getvalue())
    print(f"wrote {args.out}: {len(rows)} × {enc.embedding_dim} (waveform norm: {norm})")
    return 0
