"""``impact-bench data synth`` (a synthetic suite in the real release layout) and ``data get`` (the real
suites' official archives, checksummed, resumable, unpacked where the readers look; docs/data.md)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="prepare datasets (synthetic stand-ins)")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    s = dsub.add_parser("synth", help="write a deterministic synthetic dataset in the real layout",
                        description="dinos-synth: the 30 DINOS classes (Table 2 counts × --scale) under "
                                    "DINOS_Downstreams_{train,test}/. --pretrain N also writes N 59-s recordings per "
                                    "pretraining category under DINOS_Pretrain/. dcase20XX-synth: that year's official "
                                    "layout and names (dev_data/, eval_data/, eval ground truth in ground_truth/), 10-s "
                                    "16-kHz clips. mimii-synth (also for mimii-supervised-synth): <snr>/<machine>/id_XX/"
                                    "{normal,abnormal}/, 8 channels. dinos-anomaly-synth: Yornew_anomaly/ and "
                                    "ColdSpray_anomaly/ under DINOS_Downstreams_{train,test}/. listen-onsite-synth: the LISTEN "
                                    "release layout (Datasets/Onsite_Train/train_list.csv + Onsite_Test/test/<mode>/), "
                                    "20 training clips per mode and the release's test counts × --scale.")
    s.add_argument("--suite", default="dinos-synth",
                   help="synthetic suite to write: dinos-synth (default), dinos-anomaly-synth, dcase2020-synth … "
                        "dcase2024-synth, dcase2026-synth (near/far stereo), mimii-synth, mimii-supervised-synth, "
                        "listen-onsite-synth")
    s.add_argument("--machines", type=int, metavar="N", help="anomaly suites: only the first N machine types per set")
    s.add_argument("--out", type=Path, required=True, help="folder to write into (existing identical files are kept)")
    s.add_argument("--scale", type=float, default=1.0, help="fraction of the published clip counts (at least 10 per class for dinos-synth, 2 for "
                        "listen-onsite-synth)")
    s.add_argument("--pretrain", type=int, default=0, metavar="N", help="also write N pretraining recordings per category")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=main)
    g = dsub.add_parser(
        "get", help="download a real suite's official archives (checksummed, resumable) into the layout its reader expects",
        description="Fetch the official archives of a real suite: DCASE 2020-2026 Task 2 (Zenodo records of the official "
                    "baselines' download lists), MIMII (Zenodo 3384388), DINOS (Harvard Dataverse doi:10.7910/DVN/FWAZBQ), "
                    "LISTEN (GitHub archive of hanprd/LISTEN). Checksums and licences come from each record's own "
                    "metadata; every file is verified, a broken download resumes with an HTTP Range request, and the "
                    "archives are unpacked where `impact-bench run --suite SUITE` looks. The licences are shown first: "
                    "pass --yes to accept them without a prompt (required when stdin is not a terminal). Mirrors: "
                    "$IMPACT_BENCH_ZENODO_URL, $IMPACT_BENCH_DATAVERSE_URL, $IMPACT_BENCH_GITHUB_URL. See docs/data.md.")
    g.add_argument("suite", metavar="SUITE", help="dcase2020 ... dcase2026, mimii (or mimii-supervised), dinos (or "
                                                  "dinos-anomaly), listen-onsite")
    g.add_argument("--out", type=Path, help="folder to unpack into (default: the folder `run` looks in without "
                                            "--data-root: $IMPACT_BENCH_CACHE/data/SUITE, ~/.cache/impact-bench/data/SUITE)")
    g.add_argument("--sets", nargs="+", default=[], metavar="SET",
                   help="only these sets: dev, eval (DCASE); -6dB, 0dB, 6dB (MIMII; write --sets=-6dB or m6dB); "
                        "downstream (default), pretrain (DINOS)")
    g.add_argument("--machines", nargs="+", default=[], metavar="MACHINE",
                   help="only these machine types (DCASE, MIMII), e.g. --machines fan valve")
    g.add_argument("--yes", "-y", action="store_true", help="accept the licences shown and download without asking")
    g.add_argument("--dry-run", action="store_true", help="show files, sizes and licences; download nothing")
    g.add_argument("--keep-archives", action="store_true",
                   help="keep the verified archives under OUT/.downloads/ after unpacking (default: delete them)")
    g.add_argument("--retries", type=int, default=5, metavar="N",
                   help="reconnect N times (resuming with a Range request) after a dropped connection (default 5)")
    g.add_argument("--quiet", action="store_true", help="no progress bars")
    g.set_defaults(func=main_get)


def main(args: argparse.Namespace) -> int:
    from impact_bench.suites.catalog import get_suite
    from impact_bench.synth.catalog import write_suite_data
    from impact_bench.synth.pretrain_synth import write_pretrain_synth

    spec = get_suite(args.suite)
    n = write_suite_data(spec, args.out, args.scale, args.machines, progress=not args.quiet)
    print(f"wrote {n} files under {args.out} (suite {spec.name} v{spec.version}, scale {args.scale})")
    if args.pretrain:
        m = write_pretrain_synth(args.out, args.pretrain, progress=not args.quiet)
        print(f"wrote {m} pretraining recordings under {args.out / 'DINOS_Pretrain'}")
    return 0


def _names(values: list[str]) -> tuple[str, ...]:
    return tuple(v for item in values for v in item.split(",") if v)


def _confirm(args: argparse.Namespace, plan_bytes: str) -> None:
    from impact_bench.errors import DataError

    if args.yes:
        return
    if not sys.stdin.isatty():
        raise DataError("not a terminal, so no prompt: pass --yes to accept the licences shown above and download")
    answer = input(f"Accept these licences and download {plan_bytes}? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise DataError("nothing downloaded (licences not accepted)")


def main_get(args: argparse.Namespace) -> int:
    from impact_bench import readers
    from impact_bench.cache import default_cache_root
    from impact_bench.datasets import get as data_get
    from impact_bench.datasets.sources import source_for
    from impact_bench.errors import DataError, RegistryError
    from impact_bench.suites.catalog import get_suite

    try:
        spec = get_suite(args.suite)
    except RegistryError:  # a published source whose task file is not installed: download all the same
        spec = None
        source_for(args.suite)
    name = spec.name if spec else args.suite
    if getattr(spec, "synthetic", False):
        raise DataError(f"suite {name!r} is synthetic: write it with `impact-bench data synth --suite {name} --out DIR`")
    default_out = default_cache_root() / "data" / name
    out = args.out or default_out
    plan = data_get.make_plan(name, out, _names(args.sets), _names(args.machines))
    for line in data_get.describe(plan):
        print(line)
    if args.dry_run:
        for f in plan.pending:
            print(f"  would fetch {f.url} ({f.size if f.size is not None else '?'} bytes, {f.checksum or 'no checksum published'})"
                  f" -> {out / f.archive.dest if f.archive.dest else out}")
        return 0
    if plan.pending:
        data_get.check_disk(plan)
        _confirm(args, data_get.human_size(plan.pending_bytes))
        counts = data_get.run(plan, progress=not args.quiet, keep_archives=args.keep_archives, retries=args.retries)
        print(f"done: {counts['fetched']} file(s) verified and unpacked ({counts['unpacked']} files written), "
              f"{counts['present']} already present; manifest: {out / 'impact-bench-data.json'}")
    if spec is not None and not readers.detect(spec, out):
        raise DataError(f"{out}: the archives are unpacked but the {name} reader finds no data there; expected: "
                        f"{plan.source.manual_layout}")
    where = "" if Path(out).resolve() == default_out.resolve() else f" --data-root {out}"
    print(f"ready: impact-bench run --suite {name}{where} --encoder ENCODER")
    return 0
