"""``impact-bench reproduce listen-onsite``: clip-by-clip check against the LISTEN release's own logs."""
from __future__ import annotations

import argparse
from pathlib import Path

from tabulate import tabulate

from impact_bench.errors import DataError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reproduce", help="reproduce a release's published per-clip outputs (listen-onsite)",
                       description="For each released LISTEN backbone present (Models/<name>.pth and "
                                   "<name>-classifier.pth): embed the release's test clips, apply the released head, "
                                   "write per-clip predictions and per-class metrics in the release's log layout, and "
                                   "compare with the release's Logs/<name>_inference_log_*.csv. Exit 1 when any "
                                   "probability differs by more than --tolerance, any prediction differs, or a clip "
                                   "is missing on either side.")
    p.add_argument("suite", choices=["listen-onsite"], help="the release to reproduce")
    p.add_argument("--data-root", type=Path, help="a clone of github.com/hanprd/LISTEN (default: "
                                                  "$IMPACT_BENCH_LISTEN_ROOT)")
    p.add_argument("--encoder", action="append", default=None, metavar="NAME",
                   help="only this backbone (listen, bc-resnet-3, mobilevit-xxs, mobilenetv4-small); repeatable")
    p.add_argument("--out", type=Path, default=Path("reproduce-listen-onsite"), help="output folder")
    p.add_argument("--tolerance", type=float, default=1e-4, help="max |Δ probability| allowed (default 1e-4)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--cache-dir", type=Path, help="embedding cache (default: $IMPACT_BENCH_CACHE or ~/.cache/impact-bench)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier reproduction in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from impact_bench.listen_reproduce import reproduce
    from impact_bench.runner import resolve_data_root
    from impact_bench.suites.catalog import get_suite

    if args.batch_size < 1:
        raise DataError(f"--batch-size must be ≥ 1, got {args.batch_size}")
    spec = get_suite(args.suite)
    root = resolve_data_root(spec, args.data_root)
    reports = reproduce(root, spec, args.out, args.encoder, args.tolerance, args.batch_size, args.device,
                        args.cache_dir and args.cache_dir / "embeddings", not args.quiet, args.overwrite)
    rows = [[r.backbone, r.clips, f"{r.macro_f1_ours:.4f}",
             "—" if r.macro_f1_authors is None else f"{r.macro_f1_authors:.4f}",
             "—" if r.max_abs_prob_diff is None else f"{r.max_abs_prob_diff:.2e}",
             "—" if r.identical_predictions is None else f"{r.identical_predictions:.2%}",
             "no log" if r.passed is None else ("PASS" if r.passed else "FAIL")] for r in reports]
    print(tabulate(rows, headers=["backbone", "clips", "macro-F1 ours", "macro-F1 authors", "max |Δp|",
                                  "identical predictions", "result"]))
    print(f"wrote {args.out}/ (per-clip logs, class metrics, reproduce.json)")
    failed = [r.backbone for r in reports if r.passed is False]
    for r in reports:
        if r.differing_predictions:
            print(f"{r.backbone}: predictions differ on {', '.join(r.differing_predictions[:10])}")
    return 1 if failed else 0
