"""``impact-bench demo``: the whole offline flow in one command.

Synthetic DINOS data → every encoder available offline → results JSONs → leaderboard with plots.
Re-running reuses everything already finished.
"""
from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from impact_bench.leaderboard import build
from impact_bench.runner import RunRequest, run
from impact_bench.suites.catalog import get_suite
from impact_bench.synth.dinos_synth import write_dinos_synth

SUITE = "dinos-synth"


def offline_encoders() -> list[str]:
    names = ["logmel-stats"]
    if importlib.util.find_spec("opensmile") is not None:
        names.append("opensmile")
    return names


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="offline end-to-end demo: synthetic data → encoders → leaderboard",
                       description="Writes synthetic DINOS data, scores every encoder that runs offline with the "
                                   "paper's 10-seed probe, and renders a leaderboard with figures.")
    p.add_argument("--out", type=Path, default=Path("impact-bench-demo"), help="demo folder (default: ./impact-bench-demo)")
    p.add_argument("--scale", type=float, default=0.25, help="fraction of the published clip counts (default 0.25)")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--encoders", nargs="+", help=f"encoders to score (default: {' '.join(offline_encoders())})")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    data = args.out / "data"
    spec = get_suite(SUITE)
    print(f"[1/3] synthetic data ({SUITE}, scale {args.scale}) → {data}")
    write_dinos_synth(spec, data, args.scale, progress=not args.quiet)
    paths = []
    encoders = args.encoders or offline_encoders()
    for k, name in enumerate(encoders, start=1):
        print(f"[2/3] encoder {k}/{len(encoders)}: {name}")
        paths.append(run(RunRequest(encoder=name, suite=SUITE, out=args.out / "results", data_root=data,
                                    seeds=args.seeds, cache_dir=args.out / "cache", progress=not args.quiet)))
    board = build(paths, args.out / "leaderboard.md")
    print(f"[3/3] leaderboard → {board}")
    print("Scores are on SYNTHETIC data; for the real benchmark: impact-bench run --encoder E --suite dinos --data-root DIR")
    return 0
