"""``impact-bench evaluate-dcase``: score any DCASE Task 2 submission folder like the official evaluators."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from impact_bench.anomaly.submission import YEARS, check_year  # no numpy at import (annotations only)
from impact_bench.cache import atomic_write_bytes
from impact_bench.errors import ResultsError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate-dcase", help="score a DCASE Task 2 submission folder against the official ground truth",
        description="Reads anomaly_score_*.csv / decision_result_*.csv (headerless filename,value) and the official "
                    "evaluator's ground truth, and computes AUC (source/target), pAUC, precision/recall/F1 and the "
                    "official score exactly as the official evaluators do. Rows are matched by file name; a "
                    "mismatch is an error naming the file.")
    p.add_argument("--year", type=int, required=True, help=f"challenge year: {', '.join(map(str, YEARS))}")
    p.add_argument("--submission", type=Path, required=True, help="folder holding the submission CSVs")
    p.add_argument("--ground-truth", type=Path, required=True,
                   help="the official evaluator repository's folder (2021+: holding ground_truth_data/, "
                        "ground_truth_domain/, ground_truth_attributes/; 2020: eval_data_list.csv)")
    p.add_argument("--toy2022", choices=["evaluator", "attributes"], default="evaluator",
                   help="2022 eval ToyCar/ToyTrain labels: the evaluator's ground_truth_data (official ranking, "
                        "default) or its later attribute files (= the baseline's eval_data_list_2022.csv); "
                        "they disagree, see docs/anomaly.md")
    p.add_argument("--out", type=Path, help="write the figures as JSON here")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from impact_bench.anomaly.evaluator import evaluate  # numpy/scikit-learn metrics

    check_year(args.year)
    if args.out is not None and args.out.exists() and not args.overwrite:
        raise ResultsError(f"{args.out} exists; pass --overwrite to replace it")
    res = evaluate(args.year, args.submission, args.ground_truth, args.toy2022)
    for machine, entry in res["machines"].items():
        mean = entry["mean"]
        if args.year >= 2022:
            print(f"{machine:>16}: AUC-s {mean['auc_source']:.4f}  AUC-t {mean['auc_target']:.4f}  "
                  f"pAUC {mean['pauc']:.4f}")
        else:
            print(f"{machine:>16}: AUC {mean['auc']:.4f}  pAUC {mean['pauc']:.4f}")
    if res["official_score"] is not None:
        print(f"official score (harmonic mean): {res['official_score']:.6f}")
    else:
        print(f"mean over machine types: AUC {res['mean_auc']:.4f}  pAUC {res['mean_pauc']:.4f}")
    if args.out is not None:
        atomic_write_bytes(args.out, json.dumps(res, indent=2).encode())
        print(f"wrote {args.out}")
    return 0
