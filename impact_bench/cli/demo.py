"""``impact-bench demo``: the whole offline flow in one command.

Synthetic DINOS data → every encoder available offline → results JSONs; the same encoders on one
synthetic anomaly suite (DCASE 2023 layout: KNN scoring, submission files, official metrics) →
one leaderboard with plots. Re-running reuses everything already finished.
"""
from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

SUITE = "dinos-synth"
ANOMALY_SUITE = "dcase2023-synth"
ANOMALY_SCALE = 0.05   # 50 source + 1 target training clips, 12 test clips per machine type
ANOMALY_MACHINES = 2   # machine types per set (dev: bearing, fan; eval: bandsaw, grinder)
# A small IMPACT that pretrains in minutes on 2 CPU cores: the reference objective at E 192, depth 4,
# 4 clones, batch 32, 24 epochs over 1,888 clips (1,416 steps; the full recipe — E 384, depth 8, 16 clones,
# batch 256 — needs a GPU). Shorter schedules (6 epochs) scored below the random init (docs/impact.md).
DEMO_IMPACT = {"model": {"embed_dim": 192, "depth": 4, "num_heads": 6},
               "objective": {"decoder_dim": 128, "clones": 4, "ema_momentum": 0.996},
               "optim": {"batch_size": 32, "lr": 5e-4, "epochs": 24, "warmup_steps": 50}}
DEMO_RECORDINGS = 8  # synthetic 59-s recordings per pretraining category (4 x 8 x 59 = 1,888 clips)


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
    p.add_argument("--impact", action="store_true",
                   help="also pretrain a small IMPACT on synthetic recordings (~6 min on 2 cores) and score it beside "
                        "its random initialisation (docs/impact.md has the measured margin)")
    p.add_argument("--no-anomaly", action="store_true",
                   help=f"skip the anomaly part ({ANOMALY_SUITE}: {ANOMALY_MACHINES} machine types per set, "
                        f"scale {ANOMALY_SCALE})")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from impact_bench.leaderboards import build  # pandas, matplotlib, scipy
    from impact_bench.runner import RunRequest, run  # torch, scikit-learn
    from impact_bench.suites.catalog import get_suite
    from impact_bench.synth.dinos_synth import write_dinos_synth

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
    if args.impact:
        paths += pretrain_and_score_impact(args, data)
    if not args.no_anomaly:
        paths += score_anomaly_suite(args, encoders)
    board = build(paths, args.out / "leaderboard.md")
    print(f"[3/3] leaderboard → {board}")
    _impact_margin(paths)
    print("Scores are on SYNTHETIC data; for the real benchmark: impact-bench run --encoder E --suite dinos --data-root DIR")
    return 0


def score_anomaly_suite(args: argparse.Namespace, encoders: list[str]) -> list[Path]:
    from impact_bench.runner import RunRequest, run
    from impact_bench.suites.catalog import get_suite
    from impact_bench.synth.catalog import write_suite_data

    data = args.out / "data-anomaly"
    print(f"[2/3] anomaly suite {ANOMALY_SUITE} (scale {ANOMALY_SCALE}, {ANOMALY_MACHINES} machine types per set) → {data}")
    write_suite_data(get_suite(ANOMALY_SUITE), data, ANOMALY_SCALE, ANOMALY_MACHINES, progress=not args.quiet)
    paths = []
    for k, name in enumerate(encoders, start=1):
        print(f"[2/3] {ANOMALY_SUITE}: encoder {k}/{len(encoders)}: {name}")
        paths.append(run(RunRequest(encoder=name, suite=ANOMALY_SUITE, out=args.out / "results", data_root=data,
                                    cache_dir=args.out / "cache", progress=not args.quiet)))
    return paths


def pretrain_and_score_impact(args: argparse.Namespace, data: Path) -> list[Path]:
    """Pretrain the small IMPACT (resumes/reuses its checkpoint) and score it beside its random init."""
    from impact_bench.impact.config import preset
    from impact_bench.impact.pretrain_data import scan
    from impact_bench.impact.train import TrainRequest, train  # torch
    from impact_bench.runner import RunRequest, run
    from impact_bench.synth.pretrain_synth import write_pretrain_synth

    out = args.out / "impact-train"
    cfg = preset("reference").replace(**DEMO_IMPACT)
    final = out / f"impact_synthetic_epoch_{cfg.optim.epochs:04d}.pth"
    if not final.exists():
        corpus = args.out / "pretrain-data"
        print(f"[2/3] IMPACT: synthetic pretraining corpus ({DEMO_RECORDINGS} x 59 s per category) → {corpus}")
        write_pretrain_synth(corpus, DEMO_RECORDINGS, progress=not args.quiet)
        done = sorted(out.glob("impact_synthetic_epoch_*.pth"))
        print(f"[2/3] IMPACT: pretraining a small model ({cfg.optim.epochs} epochs) → {out}")
        train(TrainRequest(config=cfg, index=scan(corpus), out=out, dataset_name="synthetic",
                           resume=done[-1] if done else None, progress=not args.quiet))
    paths = []
    for label, opts in (("impact-pretrained", {}), ("impact-random-init", {"random_init_seed": 0})):
        print(f"[2/3] encoder: {label}")
        paths.append(run(RunRequest(encoder="impact", checkpoint=str(final), encoder_options=opts, label=label,
                                    suite=SUITE, out=args.out / "results", data_root=data, seeds=args.seeds,
                                    cache_dir=args.out / "cache", progress=not args.quiet)))
    return paths


def _impact_margin(paths: list[Path]) -> None:
    from impact_bench.results import headline, load_results

    scores = {}
    for p in paths:
        res = load_results(Path(p))
        if res["kind"] == "classification":
            scores[res["encoder"].get("label")] = headline(res)
    if {"impact-pretrained", "impact-random-init"} <= set(scores):
        a, b = scores["impact-pretrained"], scores["impact-random-init"]
        print(f"IMPACT mean macro-F1: pretrained {a:.4f} vs random init {b:.4f} (margin {a - b:+.4f})")
