"""``impact-bench train``: pretrain IMPACT (single process, or multi-GPU/multi-node via torchrun)."""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from typing import TYPE_CHECKING

from impact_bench.errors import ImpactBenchError
from impact_bench.impact.config import PRESETS  # plain dataclasses, no torch

if TYPE_CHECKING:
    from impact_bench.impact.config import ImpactConfig

EPILOG = """examples:
  impact-bench train --synthetic --max-steps 200 --batch-size 32          # offline smoke run
  impact-bench train --preset reference --data /data/DINOS --device cuda    # the authors' recipe
  torchrun --nproc_per_node 4 -m impact_bench.cli train --data /data/DINOS --device cuda
  impact-bench train --resume impact-train/impact_DINOS_epoch_0003.pth --data /data/DINOS
Then: impact-bench run --encoder impact --checkpoint impact-train/impact_DINOS_epoch_0010.pth --suite dinos"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="pretrain IMPACT on DINOS_Pretrain/, your own recordings, or synthetic data",
                       description="Student-teacher pretraining of IMPACT. --preset reference follows the authors' "
                                   "code, --preset paper the paper's text (docs/impact.md compares them). Writes "
                                   "impact_<data>_epoch_NNNN.pth per epoch and train_log.jsonl to --out.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--data", type=Path, help="folder holding DINOS_Pretrain/ (or any folder of wav/flac; "
                                               "the first sub-folder level is the category)")
    src.add_argument("--synthetic", action="store_true", help="train on the synthetic pretraining corpus (offline)")
    p.add_argument("--synthetic-recordings", type=int, default=8, metavar="N",
                   help="59-s synthetic recordings per category (default 8; written under --out)")
    p.add_argument("--preset", choices=PRESETS, help="reference (authors' code, default) or paper")
    p.add_argument("--epochs", type=int, help="epochs (cosine schedule length; default: the preset's)")
    p.add_argument("--max-steps", type=int, help="stop after N optimizer steps in total (a checkpoint is written)")
    p.add_argument("--batch-size", type=int, help="global batch in clips, split over processes (default 256)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 5e-5)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                   help="config override, repeatable, e.g. --set model.num_heads=16 --set objective.clones=4")
    p.add_argument("--balance", choices=["files", "none"], default="files",
                   help="files: equal recordings per category, as the paper (default); none: use everything")
    p.add_argument("--out", type=Path, default=Path("impact-train"), help="checkpoint folder (default ./impact-train)")
    p.add_argument("--resume", type=Path, metavar="CKPT", help="continue exactly from a checkpoint of ours")
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="allow a --resume file that needs full pickle loading (runs code from the file; only for "
                        "files from a source you trust). Default: torch.load(weights_only=True)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (under torchrun: each rank uses cuda:LOCAL_RANK)")
    p.add_argument("--precision", choices=["bf16", "fp16", "fp32"], help="default: bf16 on CUDA, fp32 on CPU")
    p.add_argument("--seed", type=int, default=42, help="seed for init, data order and masks (default 42)")
    p.add_argument("--workers", type=int, default=0, help="data-loading worker processes (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def _config(args: argparse.Namespace) -> ImpactConfig:
    from impact_bench.encoders.catalog import parse_options
    from impact_bench.impact.checkpoint import is_ours, read_checkpoint  # torch
    from impact_bench.impact.config import from_dict, preset

    if args.resume is not None:
        obj = read_checkpoint(args.resume, args.trust_checkpoint)
        if not is_ours(obj):
            raise ImpactBenchError(f"{args.resume}: --resume needs a checkpoint written by `impact-bench train`")
        given = [flag for flag, v in (("--preset", args.preset), ("--batch-size", args.batch_size),
                                      ("--lr", args.lr), ("--set", args.set or None)) if v is not None]
        if given:
            raise ImpactBenchError(f"--resume takes the config from the checkpoint; drop {', '.join(given)} "
                                   f"(only --epochs and --max-steps may change)")
        cfg = from_dict(obj["config"])
        return cfg.replace(optim={"epochs": args.epochs}) if args.epochs else cfg
    cfg = preset(args.preset or "reference")
    sections: dict[str, dict] = {}
    for item in args.set:
        key, eq, _ = item.partition("=")
        if not eq or not re.fullmatch(r"[a-z]+\.[a-z_]+", key):
            raise ImpactBenchError(f"--set expects SECTION.FIELD=VALUE (e.g. model.num_heads=16), got {item!r}")
        section, fld = key.split(".")
        sections.setdefault(section, {}).update({fld: parse_options([item.split(".", 1)[1]])[fld]})
    optim = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr))
             if v is not None}
    if optim:
        sections.setdefault("optim", {}).update(optim)
    return cfg.replace(**sections) if sections else cfg


def main(args: argparse.Namespace) -> int:
    from impact_bench.impact.pretrain_data import PRETRAIN_DIR, scan
    from impact_bench.impact.train import TrainRequest, train  # torch
    from impact_bench.synth.pretrain_synth import write_pretrain_synth

    cfg = _config(args)
    if args.synthetic:
        data = args.out / "pretrain-synth"
        write_pretrain_synth(data, args.synthetic_recordings, progress=not args.quiet)
        name = "synthetic"
    elif args.data is not None:
        data = args.data
        name = "DINOS" if (data / PRETRAIN_DIR).is_dir() else re.sub(r"[^A-Za-z0-9-]+", "-", data.resolve().name)
    else:
        raise ImpactBenchError("say what to train on: --data DIR (DINOS_Pretrain/ or your recordings) or --synthetic")
    index = scan(data, balance=args.balance, seed=args.seed)
    info = index.summary()
    say = print if int(os.environ.get("RANK", "0")) == 0 else (lambda *a, **k: None)
    say(f"pretraining data: {info['recordings']} recordings, {info['clips']} one-second clips "
          f"({info['hours']} h) in {len(info['categories'])} categories; preset {cfg.preset}")
    if index.skipped:
        say(f"skipped {len(index.skipped)} file(s):")
        for path, reason in index.skipped[:10]:
            say(f"  {path}: {reason}")
    if index.dropped_for_balance:
        say(f"balanced per category: left out {index.dropped_for_balance} recordings (--balance none keeps them)")
    last = train(TrainRequest(config=cfg, index=index, out=args.out, dataset_name=name, max_steps=args.max_steps,
                              resume=args.resume, trust_checkpoint=args.trust_checkpoint, device=args.device,
                              precision=args.precision, seed=args.seed,
                              workers=args.workers, progress=not args.quiet, data_info=info))
    say(f"checkpoint: {last}\nscore it: impact-bench run --encoder impact --checkpoint {last} --suite dinos-synth")
    return 0
