"""``impact-bench list suites|tasks|encoders``."""
from __future__ import annotations

import argparse

from tabulate import tabulate

from impact_bench.encoders.catalog import encoder_registry
from impact_bench.suites.catalog import get_suite, suite_registry
from impact_bench.suites.spec import AnomalySuiteSpec, AnySuite


def _contents(s: AnySuite) -> str:
    if isinstance(s, AnomalySuiteSpec):
        sets = "/".join(s.protocol.sets)
        return (f"DCASE {s.data.year}, {sets}" if s.data.layout == "dcase" else f"{s.data.layout}, {sets}")
    return f"{len(s.tasks)} tasks, {len(s.problems)} problems"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list suites, tasks of a suite, or encoders (with licences)")
    p.add_argument("what", choices=["suites", "tasks", "encoders"])
    p.add_argument("--suite", default="dinos", help="suite whose tasks to list (default: dinos)")
    p.add_argument("--no-plugins", action="store_true", help="do not look for installed encoder plugins")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if args.what == "suites":
        rows = [[s.name, s.kind, s.version, "yes" if s.synthetic else "no", _contents(s), s.title]
                for s in (e.target for e in suite_registry().entries())]
        print(tabulate(rows, headers=["suite", "kind", "version", "synthetic", "contents", "title"], disable_numparse=True))
    elif args.what == "tasks" and isinstance(spec := get_suite(args.suite), AnomalySuiteSpec):
        print(f"{spec.name} v{spec.version}: {spec.title}")
        rows = [[k, ", ".join(v)] for k, v in spec.data.machines.items()] or [["(any)", "machine folders found"]]
        print(tabulate(rows, headers=["set", "machine types"], disable_numparse=True))
    elif args.what == "tasks":
        rows = [[t.id, t.machine, spec.problem_of(t.id).name, t.sensor, t.description, t.samples] for t in spec.tasks]
        print(f"{spec.name} v{spec.version}: {spec.title}")
        print(tabulate(rows, headers=["task", "machine", "problem", "sensor", "description", "published clips"]))
    else:
        registry, notices = encoder_registry(autoload=not args.no_plugins)
        rows = [[e.name, e.origin, e.meta.get("licence", "?"), e.meta.get("description", "")] for e in registry.entries()]
        print(tabulate(rows, headers=["encoder", "origin", "licence", "description"]))
        for note in notices:
            print(f"note: {note}")
    return 0
