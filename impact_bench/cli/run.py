"""``impact-bench run``: score one encoder on one suite."""
from __future__ import annotations

import argparse
from pathlib import Path

from impact_bench.encoders.catalog import parse_options


def add_common_encoder_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--encoder", required=True,
                   help="registered name (see `impact-bench list encoders`), pkg.module:Class, path/to/file.py:Class, "
                        "or hear:MODULE (any HEAR-API module)")
    p.add_argument("--checkpoint", help="weights file for the encoder (default: where `impact-bench weights` finds one)")
    p.add_argument("--encoder-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="encoder option, repeatable (e.g. --encoder-opt sample_rate=16000)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--batch-size", type=int, default=32, help="clips per encoder call (default: 32)")
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="allow a checkpoint that needs full pickle loading (runs code from the file; only for "
                        "files from a source you trust). Default: torch.load(weights_only=True)")
    p.add_argument("--no-plugins", action="store_true", help="do not load encoders from installed plugins")


def encoder_options(args: argparse.Namespace) -> dict:
    """--encoder-opt pairs plus --trust-checkpoint, as keyword arguments for the encoder factory."""
    options = parse_options(args.encoder_opt)
    if getattr(args, "trust_checkpoint", False):
        options["trust_checkpoint"] = True
    return options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="score an encoder on a suite (embeddings → 10-seed probe → results JSON)",
                       description="Extract frozen embeddings (cached), train the probe over all seeds, and write "
                                   "<out>/<suite>__<encoder>.json. Interrupted runs resume when re-run. "
                                   "Large extractions can be sharded: torchrun --nproc_per_node N -m impact_bench.cli "
                                   "run … (ranks share the work through the embedding cache; rank 0 probes and "
                                   "writes).")
    add_common_encoder_args(p)
    p.add_argument("--suite", required=True,
                   help="suite name, e.g. dinos, dinos-synth, dcase2023, mimii (`impact-bench list suites`)")
    p.add_argument("--data-root", type=Path, help="dataset folder (default: $IMPACT_BENCH_<SUITE>_ROOT or the cache dir)")
    p.add_argument("--seeds", type=int, help="number of seeds/splits (default: the suite's, 10 for DINOS)")
    p.add_argument("--max-clips-per-class", type=int, help="use at most N clips per class (results marked as a subset)")
    p.add_argument("--split", choices=["paper", "official"], default=None,
                   help="paper: pool the release's train+test folders and re-split 20/80 per seed (DINOS default); "
                        "official: use the release's own train/test sets, as the authors' code does "
                        "(listen-onsite default)")
    p.add_argument("--probe", choices=["paper", "listen"], default=None,
                   help="probe head: paper = the IMPACT paper's 256-unit probe (default); listen = the LISTEN "
                        "release's head and recipe (AdamW 5e-4, wd 1e-3, batch 16, 200 epochs, plateau LR); "
                        "results are labelled <encoder>+listen-head")
    p.add_argument("--standardize", action="store_true", help="z-score features with train-split statistics before the probe (off in the paper; "
                        "also applies to mimii-supervised)")
    p.add_argument("--class-map", type=Path, help="CSV machine,folder,task mapping class folders to task ids")
    p.add_argument("--label", help="name of this run in file names and leaderboards (default: the encoder name), "
                                   "e.g. to score two checkpoints of one encoder side by side")
    a = p.add_argument_group("anomaly suites (dcase20XX, mimii, dinos-anomaly and their -synth stand-ins)")
    a.add_argument("--ground-truth", type=Path, metavar="DIR",
                   help="official evaluator folder with the eval labels (2021+: ground_truth_data/ …; 2020: "
                        "eval_data_list.csv). Without it eval scores are written but not evaluated")
    a.add_argument("--backend-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="override the suite's back end, repeatable: name=knn|kmeans|lof|gmm|mahalanobis|"
                        "knn-kmeans|knn-smote|knn-rescale|local-density, k=1, metric=cosine|euclidean, "
                        "normalise=none|train-loo|test-z (test-z is transductive), n_clusters=16 (kmeans, "
                        "knn-kmeans), n_components=2 (gmm), cov=ledoit-wolf|empirical|oas (mahalanobis), "
                        "smote_ratio=0.2, smote_neighbors=2 (knn-smote), k_ref=4|1 (knn-rescale|local-density), "
                        "density=ratio|difference (local-density), screen=auto|on|off (bf16 screen of the cosine "
                        "KNN search; auto: on for banks of ≥ 4,096 clips where bf16 measures faster, the outcome is "
                        "recorded in protocol.knn_search); see docs/anomaly.md, Back ends")
    a.add_argument("--backend-from", type=Path, metavar="FILE",
                   help="apply the back end chosen on the dev set by `impact-bench select-backend` (its "
                        "selection file; --backend-opt still overrides). Results record protocol.first_shot; "
                        "DCASE 2023-2026 runs whose back end was neither so selected nor the suite default are "
                        "marked [not first-shot] on leaderboards")
    a.add_argument("--channel", choices=["near", "far", "mean", "both"], default=None,
                   help="near/far stereo suites only (dcase2026, dcase2026-synth): near = left channel, the near "
                        "microphone (default, as the official baseline); far = right channel; mean = their mean; "
                        "both = each channel embedded, concatenated (2x dim). Non-default runs are labelled "
                        "<encoder>+<channel>")
    a.add_argument("--machines", nargs="+", default=[], metavar="TYPE",
                   help="score only these machine types (results marked as a subset)")
    a.add_argument("--supplementary", choices=["ignore", "bank", "noise-norm"], default=None,
                   help="DCASE 2025 only: use the <machine>/supplemental/ recordings. ignore (default): not used; "
                        "bank: clean machine recordings join the source-domain bank; noise-norm: each score minus "
                        "its fit on the clip's distance to the nearest noise-only clip (docs/anomaly.md). Results "
                        "are marked and kept apart on leaderboards")
    a.add_argument("--toy2022", choices=["evaluator", "attributes"], default=None,
                   help="DCASE 2022 eval ToyCar/ToyTrain ground truth: the evaluator's files (official ranking, "
                        "default) or its later attribute files (see docs/anomaly.md)")
    p.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: ./results)")
    p.add_argument("--cache-dir", type=Path, help="embedding cache (default: $IMPACT_BENCH_CACHE or ~/.cache/impact-bench)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    p.add_argument("--overwrite", action="store_true", help="replace an existing results file of a different run")
    p.add_argument("--strict", action="store_true",
                   help="refuse suspect audio (truncated WAV, clips under half the suite's clip length, mixed sample "
                        "rates, multichannel files downmixed, 8-bit or mixed sample formats, the same audio in train "
                        "and test) instead of listing it as notices; see docs/reliability.md")
    p.add_argument("--tasks-dir", action="append", default=[], help="extra folder of suite .yaml files")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from impact_bench.runner import RunRequest, run  # torch, scikit-learn: only when a run is asked for

    req = RunRequest(
        encoder=args.encoder, suite=args.suite, out=args.out, data_root=args.data_root, checkpoint=args.checkpoint,
        encoder_options=encoder_options(args), seeds=args.seeds,
        max_clips_per_class=args.max_clips_per_class, split=args.split, probe=args.probe, standardize=args.standardize,
        class_map=args.class_map, device=args.device, batch_size=args.batch_size,
        cache_dir=args.cache_dir and args.cache_dir / "embeddings", use_cache=not args.no_cache,
        overwrite=args.overwrite, autoload_plugins=not args.no_plugins, progress=not args.quiet,
        tasks_dirs=tuple(args.tasks_dir), label=args.label, strict=args.strict, ground_truth=args.ground_truth,
        backend=parse_options(args.backend_opt), toy2022=args.toy2022, machines=tuple(args.machines),
        backend_from=args.backend_from, channel=args.channel, supplementary=args.supplementary)
    run(req)
    return 0
