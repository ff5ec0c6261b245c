"""``impact-bench leaderboard``: markdown/LaTeX tables + figures from results files."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("leaderboard", help="render results JSONs as paper-style tables beside the published numbers")
    p.add_argument("results", nargs="+", type=Path, help="results JSON files written by `impact-bench run`")
    p.add_argument("-o", "--out", type=Path, required=True, help="markdown (or .tex) file to write")
    p.add_argument("--format", choices=["markdown", "latex"], default="markdown")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--ci", action="store_true",
                   help="classification cells: mean [95 %% cluster-bootstrap interval over clips] instead of ± std")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from impact_bench.leaderboards import build  # pandas, matplotlib, scipy

    out = build(args.results, args.out, latex=args.format == "latex", figures=not args.no_figures,
                ci=args.ci)
    print(f"wrote {out}")
    return 0
