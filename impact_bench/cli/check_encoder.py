"""``impact-bench check-encoder``: run the conformance checks on an encoder."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-encoder", help="check an encoder against the contract (shapes, determinism, batching, …)",
                       description="Exit status 0 when every check passes, 1 otherwise. Encoders with the "
                                   "optional embed_frames also get the frames-* checks (skipped otherwise).")
    p.add_argument("encoder", help="registered name, pkg.module:Class or path/to/file.py:Class")
    p.add_argument("--checkpoint", help="weights file for encoders that need one (default: where `impact-bench "
                                        "weights` looks)")
    p.add_argument("--encoder-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="encoder option (repeatable), e.g. random_init_seed=0")
    p.add_argument("--device", default="cpu", help="torch device for the encoder (default: cpu)")
    p.add_argument("--trust-checkpoint", action="store_true", help="allow full-pickle checkpoint loading")
    p.add_argument("--no-plugins", action="store_true", help="do not look up encoders from installed plugins")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from impact_bench.cli.run import encoder_options
    from impact_bench.encoders.catalog import build_encoder
    from impact_bench.encoders.conformance import run_checks  # imports torch

    enc = build_encoder(args.encoder, checkpoint=args.checkpoint, device=args.device,
                        options=encoder_options(args), autoload=not args.no_plugins)
    checks = run_checks(enc)
    for c in checks:
        print(f"[{'SKIP' if c.skipped else 'PASS' if c.passed else 'FAIL'}] {c.name:<23} {c.message}")
    failed = sum(not c.passed for c in checks)
    skipped = sum(c.skipped for c in checks)
    print(f"{len(checks) - failed - skipped} passed, {failed} failed"
          + (f", {skipped} skipped (optional frame-level embeddings absent)" if skipped else ""))
    return 1 if failed else 0
