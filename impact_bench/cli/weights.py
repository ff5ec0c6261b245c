"""``impact-bench weights``: where each adapter looks for its official weights, and what it found."""
from __future__ import annotations

import argparse
import difflib

from tabulate import tabulate

from impact_bench.cache import file_sha256
from impact_bench.errors import RegistryError
from impact_bench.weights import MANIFESTS, locate


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("weights", help="show where adapters look for official weights and what is there",
                       description="Without --checkpoint an adapter takes, in order: the file (or a folder holding "
                                   "an expected file name) named by its environment variable, then "
                                   "<cache>/weights/<encoder>/ (cache: $IMPACT_BENCH_CACHE or ~/.cache/impact-bench). "
                                   "Nothing is downloaded; the source column says where the files are published.")
    p.add_argument("encoders", nargs="*", help="only these encoders (default: every one with a manifest)")
    p.add_argument("--sha256", action="store_true", help="also hash found files and compare with published digests")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    names = args.encoders or list(MANIFESTS)
    for n in names:
        if n not in MANIFESTS:
            close = difflib.get_close_matches(n, list(MANIFESTS), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise RegistryError(f"no weights manifest for encoder {n!r}{hint} Encoders with official weights: "
                                f"{', '.join(MANIFESTS)}")
    rows = []
    for n in names:
        look = locate(n)
        m = look.manifest
        found = f"{look.found} (via {look.how})" if look.found else "not found"
        if look.found and args.sha256:
            digest = file_sha256(look.found)
            known, prefix = m.sha256.get(look.found.name), m.sha256_prefix.get(look.found.name)
            if known is None and prefix is None:
                verdict = "(no published digest)"
            else:
                ok = digest == known if known is not None else digest.startswith(str(prefix))
                verdict = "(matches)" if ok else "(DIFFERS from published)"
            found += f"\nsha256 {digest[:16]}… {verdict}"
        rows.append([n, "\n".join(m.files), f"${m.env_var}\n{m.cache_dir()}", found, m.source, m.licence])
    print(tabulate(rows, headers=["encoder", "expected files", "looked for in", "found", "source", "licence"],
                   tablefmt="grid"))
    return 0
