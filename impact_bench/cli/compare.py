"""``impact-bench compare A.json B.json``: the full paired comparison of two runs of one probe suite."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="paired significance tests and confidence intervals for two runs",
                       description="Per problem and overall (per-seed mean over problems): mean difference A − B, the "
                                   "paired two-level cluster bootstrap (default: clips resampled within class, every "
                                   "seed's prediction of a clip kept together, plus the seeds' shrunken head effects; "
                                   "docs/statistics.md) with a 95 %% interval, the corrected "
                                   "resampled t-test (Nadeau & Bengio 2003; conservative), the plain paired t-test "
                                   "(anti-conservative: the splits overlap) and Wilcoxon. Exit 0 when the report is "
                                   "produced, whatever it finds; exit 2 when the runs cannot be paired (the error names "
                                   "the field). Classification (probe) suites; unsupervised anomaly suites: per set, "
                                   "machine type and unit, the paired DeLong test of the AUCs, the paired bootstrap "
                                   "(strata: label, unit, domain) of pAUC and of the official-style harmonic-mean "
                                   "score, Holm over the rows of each set's table.")
    p.add_argument("a", type=Path, help="results file A")
    p.add_argument("b", type=Path, help="results file B")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--n-boot", type=int, default=None,
                   help="bootstrap resamples (default 10000; anomaly runs 2000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (recorded; same seed → same numbers)")
    p.add_argument("--levels", choices=("clips+seeds", "clips"), default="clips+seeds",
                   help="probe suites: what the bootstrap resamples. clips+seeds (default): clips and the trained "
                        "heads' seed effects (two-level); clips: clips only, heads held fixed (answers 'is A better "
                        "than B with these trained heads')")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=main)


def _fmt_p(p: float, n_boot: int | None = None) -> str:
    if n_boot and p == 0.0:
        return f"< {2 / n_boot:.0e}"
    return f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}"


def main(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from impact_bench.compare import check_comparable, compare_two
    from impact_bench.errors import ImpactBenchError
    from impact_bench.results import load_results

    if not 0 < args.alpha < 1 or (args.n_boot is not None and args.n_boot < 100):
        raise ImpactBenchError("--alpha must be in (0, 1) and --n-boot at least 100")
    a, b = load_results(args.a), load_results(args.b)
    check_comparable([a, b], [str(args.a), str(args.b)])
    if a.get("kind") == "anomaly" and args.levels != "clips+seeds":
        raise ImpactBenchError("--levels applies to probe suites; anomaly runs have no seeds to resample")
    report = compare_two(a, b, args.n_boot, args.seed, args.alpha, args.levels)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    if report.get("kind") == "anomaly":
        _print_anomaly(report)
        return 0
    rows = []
    for name, r in report["rows"].items():
        cb = r.get("cluster_bootstrap")
        rows.append([name, f"{r['mean_a']:.4f}", f"{r['mean_b']:.4f}", f"{r['diff']:+.4f}",
                     "–" if cb is None else f"[{cb['ci'][0]:+.4f}, {cb['ci'][1]:+.4f}]",
                     "–" if cb is None else _fmt_p(cb["p"], cb["n_boot"]),
                     "–" if cb is None or "p_holm" not in cb else _fmt_p(cb["p_holm"], cb["n_boot"]),
                     _fmt_p(r["corrected_t"]["p"]) if "corrected_t" in r else "–",
                     _fmt_p(r["paired_t"]["p"]) if "paired_t" in r else "–",
                     _fmt_p(r["wilcoxon"]["p"]) if "wilcoxon" in r else "–"])
    levels = (report["rows"]["overall"].get("cluster_bootstrap") or {}).get("levels")
    print(f"{report['a']} (A) vs {report['b']} (B) on {report['suite']}; α = {report['alpha']}; default test: "
          f"{report['default_test'].replace('_', ' ')}" + (f" (resampling {levels})" if levels else ""))
    print(tabulate(rows, headers=["problem", "A", "B", "A − B", "95 % CI (bootstrap)", "p (bootstrap)",
                                  "p (Holm)", "p (corrected t)", "p (paired t)", "p (Wilcoxon)"],
                   tablefmt="github", disable_numparse=True))
    if report["note"]:
        print(f"note: {report['note']}")
    print("corrected t: Nadeau & Bengio (2003), very conservative with 20/80 splits; paired t: anti-conservative "
          "(the seeds' splits overlap); see docs/statistics.md")
    return 0


def _print_anomaly(report: dict) -> None:
    from tabulate import tabulate

    from impact_bench.anomaly.paired import HEADS

    print(f"{report['a']} (A) vs {report['b']} (B) on {report['suite']}; α = {report['alpha']}; AUCs: paired DeLong; "
          f"pAUC (max FPR {report['max_fpr']}) and score: paired bootstrap, {report['n_boot']} resamples, seed "
          f"{report['seed']}")
    for set_name, entry in report["sets"].items():
        rows = []
        for name, r in entry["rows"].items():
            for k, (metric, t) in enumerate(r["metrics"].items()):
                n_boot = t.get("n_boot")
                rows.append([name if k == 0 else "", HEADS.get(metric, metric), t["test"], f"{t['a']:.4f}",
                             f"{t['b']:.4f}", f"{t['diff']:+.4f}", f"[{t['ci'][0]:+.4f}, {t['ci'][1]:+.4f}]",
                             _fmt_p(t["p"], n_boot), "–" if "p_holm" not in t else _fmt_p(t["p_holm"], n_boot)])
        print(f"\n### {set_name}")
        print(tabulate(rows, headers=["row", "metric", "test", "A", "B", "A − B", "95 % CI", "p", "p (Holm)"],
                       tablefmt="github", disable_numparse=True))
    print(f"\nrows: machine types (mean over units) and 'all' (mean over types; score = the official score); "
          f"{report['note']}; see docs/statistics.md")
