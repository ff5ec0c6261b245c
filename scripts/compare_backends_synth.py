"""Every anomaly back end × score normalisation on a synthetic DCASE suite, as one markdown table.

    python scripts/compare_backends_synth.py --suite dcase2023-synth --scale 0.3 --machines 2 --out table.md

Writes the synthetic data into a temporary folder (or reads ``--data-root``), embeds every clip once with
the weight-free ``logmel-stats`` encoder, then for each configuration fits the back end on each section's
training clips and scores dev and eval exactly as ``impact-bench run`` does (submission files → the
official evaluator; eval labels from the generator's ground truth). Columns: the official score of dev
and eval (harmonic mean of AUC-source, AUC-target, pAUC over sections), the eval set's mean over sections
of AUC-source / AUC-target / pAUC, and, as a run records them beside the official figures (never the
official score): ASDKit's domain-only s_auc / t_auc and mix_auc (totals over sections and machine types,
``extra_metrics``), the pooled machine-agnostic detector's AUC over all eval clips and its official-rule
score (``pooled``). The mixed-bank back ends get one row (a normalisation of their single detector changes
no figure). ★ marks the configuration
``impact-bench select-backend`` would choose (best dev score, inductive normalisations only): its eval
column is the first-shot result; the best eval cell of the table is an oracle no first-shot system can claim.

The numbers are SYNTHETIC (``impact_bench.synth``): they show how the back ends behave on the
generator's physics, not how they rank on real machine sounds.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from impact_bench import readers
from impact_bench.anomaly import backends
from impact_bench.anomaly.evaluator import read_ground_truth
from impact_bench.anomaly.extra_metrics import extra_block, pooled_block
from impact_bench.anomaly.perclip import record_clips
from impact_bench.anomaly.scoring import (backend_config, score_pooled, score_set, set_headline, set_metrics,
                                          truths_from_names)
from impact_bench.anomaly.submission import write_submission
from impact_bench.encoders.catalog import build_encoder
from impact_bench.errors import DataError
from impact_bench.extract import extract
from impact_bench.suites.catalog import get_suite
from impact_bench.synth.catalog import write_suite_data


def _section_means(res: dict, keys: tuple[str, ...]) -> dict[str, float]:
    rows = [sec for e in res["machines"].values() for sec in e["sections"].values()]
    return {k: float(np.mean([r[k] for r in rows])) for k in keys if all(k in r for r in rows)}


def _beyond_official(spec, cfg, clips, x, set_name, truths, units) -> dict[str, float]:
    """ASDKit's s_auc / t_auc / mix_auc totals and the pooled evaluation, as a run records them
    (``sets.<set>.extra_metrics`` / ``.pooled``, ``anomaly/extra_metrics.py``) — not the official score."""
    layout, year = spec.data.layout, spec.data.year
    rec = record_clips(truths, units)
    out = dict(extra_block(rec, layout, year)["total"])
    pooled = pooled_block(truths, score_pooled(spec, cfg, clips, x, set_name), rec, layout, year)
    out["pooled_auc"], out["pooled_rule"] = pooled["auc"], pooled["rule_score"]
    return out


def score_config(spec, cfg, clips, x, truths) -> dict[str, dict]:
    year = int(spec.data.year)
    out = {}
    with tempfile.TemporaryDirectory(prefix="compare-backends-") as tmp:
        for set_name, t in truths.items():
            units = score_set(spec, cfg, clips, x, set_name)
            res = set_metrics(spec, t, write_submission(Path(tmp) / set_name, year, units), units)
            out[set_name] = {"score": set_headline(res),
                             **_section_means(res, ("auc_source", "auc_target", "pauc")),
                             **(_beyond_official(spec, cfg, clips, x, set_name, t, units) if set_name == "eval"
                                else {})}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", default="dcase2023-synth", help="a synthetic DCASE suite (default: dcase2023-synth)")
    ap.add_argument("--scale", type=float, default=0.3, help="generator scale (default 0.3: 297 source + 3 target "
                                                             "training clips, 15 test clips per domain × label)")
    ap.add_argument("--machines", type=int, default=2, help="machine types per set (default 2)")
    ap.add_argument("--data-root", type=Path, help="existing synthetic tree (default: generate into a temp folder)")
    ap.add_argument("--out", type=Path, help="markdown file to write (default: print)")
    args = ap.parse_args(argv)

    spec = get_suite(args.suite)
    if not spec.synthetic or getattr(spec.data, "layout", None) != "dcase":
        raise SystemExit(f"{args.suite}: expected a synthetic DCASE suite (dcase20XX-synth)")
    tmp = None
    root = args.data_root
    if root is None:
        tmp = tempfile.TemporaryDirectory(prefix="compare-backends-data-")
        root = Path(tmp.name)
        write_suite_data(spec, root, args.scale, machines=args.machines, progress=False)
    clips = list(readers.scan(spec, root).clips)
    t0 = time.perf_counter()
    x = extract(build_encoder("logmel-stats"), clips, spec.audio, None, progress=False).embeddings
    print(f"embedded {len(clips)} clips in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    year = int(spec.data.year)
    truths = {"dev": truths_from_names(clips, "dev", year),
              "eval": read_ground_truth(year, root / "ground_truth")}
    rows = []
    mixed = set(getattr(backends, "MIXED_BANK", ()))
    for name in backends.BACKENDS:
        for norm in (("none",) if name in mixed else backends.NORMALISATIONS):  # one detector: norms change nothing
            t1 = time.perf_counter()
            try:
                cfg = backend_config(spec, {"name": name, "normalise": norm})
                got = score_config(spec, cfg, clips, x, truths)
                err = None
            except (DataError, ValueError) as exc:
                got, err = {}, f"{type(exc).__name__}: {exc}"
            rows.append((name, norm, got, err, time.perf_counter() - t1))
            print(f"{name}/{norm}: {got.get('dev', {}).get('score')} {got.get('eval', {}).get('score')} "
                  f"{err or ''}", file=sys.stderr)
    inductive = [r for r in rows if r[2] and r[1] not in backends.TRANSDUCTIVE]
    chosen = max(inductive, key=lambda r: r[2]["dev"]["score"]) if inductive else None  # first on ties

    extra = [k for k in ("s_auc", "t_auc", "mix_auc", "pooled_auc", "pooled_rule")
             if any(k in r[2].get("eval", {}) for r in rows)]
    names = {"pooled_auc": "eval pooled AUC", "pooled_rule": "eval pooled score"}
    head = ["back end", "normalisation", "dev score", "eval score", "eval AUC-s", "eval AUC-t", "eval pAUC"] + \
        [names.get(k, f"eval {k}") for k in extra] + ["s / config"]

    def cell(v):
        return "–" if v is None else f"{v:.4f}"
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, norm, got, err, secs in rows:
        mark = " ★" if chosen is not None and (name, norm) == chosen[:2] else ""
        tag = " (transductive)" if norm in backends.TRANSDUCTIVE else " (= every normalisation)" if name in mixed else ""
        if err:
            short = err.split(":", 1)[-1].strip().split(";")[0][:70]
            lines.append(f"| {name}{mark} | {norm}{tag} | not run: {short} |" + " |" * (len(head) - 3))
            continue
        d, e = got["dev"], got["eval"]
        vals = [d["score"], e["score"], e.get("auc_source"), e.get("auc_target"), e.get("pauc")] + \
            [e.get(k) for k in extra]
        lines.append(f"| {name}{mark} | {norm}{tag} | " + " | ".join(cell(v) for v in vals) + f" | {secs:.1f} |")
    n_dev = sum(c.set == "dev" for c in clips)
    lines += ["", f"SYNTHETIC data: {spec.name} v{spec.version}, scale {args.scale}, {args.machines} machine type(s) "
              f"per set, {len(clips)} clips ({n_dev} dev); encoder logmel-stats; back-end defaults of the suite "
              f"file otherwise. ★ = chosen on dev (the first-shot choice)."]
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
