"""``impact-bench``: benchmark industrial machine-sound encoders.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``main(args)``.
User errors (bad data, unknown encoder, …) print one clear message and exit 2; Ctrl-C exits 130
and says how to resume.

Start-up cost: the subcommand modules are imported when the parser is built, and each of them
imports torch, scikit-learn, pandas, … only inside its ``main()``, so ``--help``, ``list`` and a
mistyped flag answer at once (``tests/test_cli_startup.py`` guards this).
"""
from __future__ import annotations

import argparse
import errno
import importlib
import sys
from types import ModuleType

from impact_bench import __version__
from impact_bench.errors import ImpactBenchError

# subcommand modules under impact_bench.cli, in the order `--help` lists them
COMMANDS = ("run", "train", "demo", "data", "listing", "check_encoder", "embed", "leaderboard", "evaluate_dcase",
            "weights", "reproduce", "compare", "select_backend", "card")


def command_modules() -> list[ModuleType]:
    return [importlib.import_module(f"impact_bench.cli.{name}") for name in COMMANDS]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="impact-bench",
        description="Score audio encoders on industrial machine-sound tasks (DINOS T1-T30 and offline "
                    "synthetic stand-ins) with the IMPACT paper's frozen-embedding probe.",
        epilog="Start with: impact-bench demo   (offline, a few minutes on 2 CPU cores)")
    parser.add_argument("--version", action="version", version=f"impact-bench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in command_modules():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ImpactBenchError as exc:
        print(f"impact-bench: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except OSError as exc:  # the machine refused (permissions, disk full, I/O error): one sentence, no traceback
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        hint = "; free some space and run the same command again (finished work is kept)" \
            if exc.errno == errno.ENOSPC else ""
        print(f"impact-bench: error: {exc.strerror or exc}{where}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nimpact-bench: interrupted; finished work is kept — run the same command again to resume.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
