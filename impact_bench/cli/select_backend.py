"""``impact-bench select-backend``: pick the anomaly back end on the dev set (first-shot protocol)."""
from __future__ import annotations

import argparse
from pathlib import Path

from impact_bench.cli.run import add_common_encoder_args, encoder_options
from impact_bench.encoders.catalog import parse_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "select-backend", help="choose the anomaly back end on the dev set only (writes a selection file)",
        description="Score candidate back-end configurations on the dev set of a DCASE suite with the year's "
                    "official score (harmonic mean of AUC-source, AUC-target, pAUC), choose the best, and "
                    "write the choice to a JSON selection file; `impact-bench run --backend-from FILE` applies "
                    "it to the eval set and records the run as first-shot-clean (DCASE 2023-2026: eval "
                    "machine types are unseen at dev time). Embeddings come from the cache, so each candidate "
                    "costs only scoring. The eval set is never read.")
    add_common_encoder_args(p)
    p.add_argument("--suite", required=True, help="a DCASE anomaly suite, e.g. dcase2023, dcase2024-synth")
    p.add_argument("--data-root", type=Path,
                   help="dataset folder (default: $IMPACT_BENCH_<SUITE>_ROOT or the cache dir)")
    p.add_argument("--candidates", nargs="+", metavar="SPEC",
                   help="configurations to compare, each NAME[/NORMALISE][,KEY=VALUE…] (e.g. knn/train-loo "
                        "knn/none,k=3 gmm/none,n_components=4). Default: every back end × every normalisation "
                        "except the transductive test-z (mixed-bank back ends: none only)")
    p.add_argument("--backend-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="setting applied to every candidate, repeatable (e.g. metric=euclidean); a candidate's "
                        "own KEY=VALUE wins")
    p.add_argument("--machines", nargs="+", default=[], metavar="TYPE",
                   help="select on these dev machine types only (a run that reads the file checks that its own "
                        "dev clips are the same ones)")
    p.add_argument("--channel", choices=["near", "far", "mean", "both"], default=None,
                   help="near/far stereo suites (DCASE 2026) only: which channel to embed (default: the suite's, "
                        "near); the eval run must use the same")
    p.add_argument("--label", help="encoder name in the default output file name")
    p.add_argument("-o", "--output", type=Path,
                   help="selection file to write (default: ./selection__<suite>__<encoder>.json)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing selection file")
    p.add_argument("--cache-dir", type=Path,
                   help="embedding cache (default: $IMPACT_BENCH_CACHE or ~/.cache/impact-bench)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    p.add_argument("--tasks-dir", action="append", default=[], help="extra folder of suite .yaml files")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from impact_bench.anomaly.selection import parse_candidate
    from impact_bench.pipeline.options import RunRequest
    from impact_bench.pipeline.select_backend import select_backend  # torch, scikit-learn: only now

    req = RunRequest(
        encoder=args.encoder, suite=args.suite, data_root=args.data_root, checkpoint=args.checkpoint,
        encoder_options=encoder_options(args), device=args.device, batch_size=args.batch_size,
        cache_dir=args.cache_dir and args.cache_dir / "embeddings", use_cache=not args.no_cache,
        autoload_plugins=not args.no_plugins, progress=not args.quiet, tasks_dirs=tuple(args.tasks_dir),
        label=args.label, backend=parse_options(args.backend_opt), machines=tuple(args.machines),
        channel=args.channel)
    candidates = [parse_candidate(c) for c in args.candidates] if args.candidates else None
    select_backend(req, candidates, args.output, args.overwrite)
    return 0
