"""``impact-bench data synth``: write a synthetic suite in the real release layout."""
from __future__ import annotations

import argparse
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
                        "dcase2024-synth, mimii-synth, mimii-supervised-synth, listen-onsite-synth")
    s.add_argument("--machines", type=int, metavar="N", help="anomaly suites: only the first N machine types per set")
    s.add_argument("--out", type=Path, required=True, help="folder to write into (existing identical files are kept)")
    s.add_argument("--scale", type=float, default=1.0, help="fraction of the published clip counts (at least 10 per class for dinos-synth, 2 for "
                        "listen-onsite-synth)")
    s.add_argument("--pretrain", type=int, default=0, metavar="N", help="also write N pretraining recordings per category")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=main)


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
