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
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing -o file that impact-bench did not write (its own pages are replaced)")
    p.add_argument("--correction", choices=["holm", "fdr_bh"], default="holm",
                   help="multiple-comparison adjustment of the tie groups: holm (default) or fdr_bh "
                        "(Benjamini-Hochberg)")
    p.add_argument("--ci", action="store_true",
                   help="classification cells: mean [95 %% two-level cluster-bootstrap interval] instead of ± std")
    p.add_argument("--zero-shot-only", action="store_true",
                   help="leave out results (and published columns) whose encoder saw the suite's source recordings "
                        "according to its model card (`impact-bench card ENCODER`); they are marked † otherwise")
    p.set_defaults(func=main)


MARK = "# impact-bench leaderboard"  # first line of every page build() writes


def check_output(out: Path, inputs: list[Path], overwrite: bool) -> None:
    """Never write over an input, a folder, or a file impact-bench did not write (unless --overwrite)."""
    from impact_bench.errors import ResultsError

    if out.is_dir():
        raise ResultsError(f"-o {out}: is a folder; give a file name such as {out / 'leaderboard.md'}")
    resolved = out.resolve()
    if any(resolved == Path(i).resolve() for i in inputs):
        raise ResultsError(f"-o {out}: is one of the results files given as input; choose another output file")
    if out.exists() and not overwrite:
        try:
            first = out.read_text(encoding="utf-8", errors="replace").lstrip()[:len(MARK) + 20]
        except OSError as exc:
            raise ResultsError(f"-o {out}: cannot read the existing file ({exc})") from exc
        if not (first.startswith(MARK) or first.startswith("% " + MARK)):
            raise ResultsError(f"-o {out}: exists and was not written by impact-bench leaderboard; pass --overwrite "
                               f"to replace it, or choose another file")


def main(args: argparse.Namespace) -> int:
    from impact_bench.leaderboards import build  # pandas, matplotlib, scipy

    check_output(args.out, args.results, args.overwrite)
    out = build(args.results, args.out, latex=args.format == "latex", figures=not args.no_figures,
                ci=args.ci, correction=args.correction, zero_shot_only=args.zero_shot_only)
    print(f"wrote {out}")
    return 0
