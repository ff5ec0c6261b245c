"""The CLI answers at once and ``import impact_bench`` stays light (issue 14, items 6 and 7).

torch, scikit-learn, pandas, matplotlib and scipy cost seconds and hundreds of MB to import; the
parser, ``--help`` and ``impact-bench list`` need none of them, so every subcommand module imports
them inside ``main()`` only, and the package exports its API lazily (PEP 562).
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time

import pytest

HEAVY = ("torch", "sklearn", "pandas", "matplotlib", "scipy")

# `python -c` / `-m` put the working directory first on sys.path; from the repository root the source tree
# (without the installed package's mapped subpackages) would shadow the install, so run elsewhere
OUTSIDE = tempfile.gettempdir()


def imported_modules(code: str) -> set[str]:
    """Every module a fresh interpreter imports while running ``code`` (from ``-X importtime``)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=OUTSIDE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":  # the header line: "import time: self [us] | cumulative | imported package"
                names.add(name)
    assert names, f"no -X importtime output: {proc.stderr[-2000:]}"
    return names


def heavy_among(modules: set[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


def median_seconds(argv: list[str], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, timeout=300, cwd=OUTSIDE)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# (a) ---------------------------------------------------------------------------------------------------------

def test_cli_import_pulls_in_no_heavy_library():
    found = heavy_among(imported_modules("import impact_bench.cli"))
    assert found == [], f"`import impact_bench.cli` imports {found}; import them inside the subcommand's main()"


def test_cli_parser_pulls_in_no_heavy_library():
    """What `impact-bench --help` / `list` / any command does before main(): import every subcommand module."""
    found = heavy_among(imported_modules("import impact_bench.cli; impact_bench.cli.build_parser()"))
    assert found == [], f"building the CLI parser imports {found}; import them inside the subcommand's main()"


@pytest.mark.parametrize("module", [
    "impact_bench",
    "impact_bench.errors",
    "impact_bench.registry",
    "impact_bench.suites.catalog",
    "impact_bench.encoders",
    "impact_bench.encoders.catalog",
    "impact_bench.cli.check_encoder",
    "impact_bench.cli.data",
    "impact_bench.cli.evaluate_dcase",
    "impact_bench.cli.leaderboard",
    "impact_bench.cli.listing",
    "impact_bench.cli.reproduce",
    "impact_bench.cli.train",
    "impact_bench.cli.weights",
    "impact_bench.cli.run",
    "impact_bench.cli.embed",
    "impact_bench.cli.demo",
])
def test_module_imports_no_heavy_library(module):
    found = heavy_among(imported_modules(f"import {module}"))
    assert found == [], f"`import {module}` imports {found}; move those imports into the function that uses them"


@pytest.mark.parametrize("what", ["encoders", "suites", "tasks"])
def test_listing_does_not_import_torch(what):
    """`impact-bench list …` end to end (parser + main), without importing the other subcommands."""
    code = ("import argparse, contextlib, io, sys\n"
            "from impact_bench.cli import listing\n"
            "p = argparse.ArgumentParser(); listing.add_parser(p.add_subparsers())\n"
            f"a = p.parse_args(['list', {what!r}])\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    assert a.func(a) == 0\n"
            "assert out.getvalue().strip()\n")
    found = heavy_among(imported_modules(code))
    assert found == [], f"`impact-bench list {what}` imports {found}"


# (b) ---------------------------------------------------------------------------------------------------------

def test_help_answers_within_half_a_second_of_bare_python():
    baseline = median_seconds([sys.executable, "-c", "pass"])
    cli = median_seconds([sys.executable, "-m", "impact_bench.cli", "--help"])
    assert cli - baseline < 0.5, f"impact-bench --help took {cli:.2f} s, bare python {baseline:.2f} s"


# (c) ---------------------------------------------------------------------------------------------------------

PUBLIC = ("run", "RunRequest", "build_encoder", "build_leaderboard", "load_results", "get_suite", "Encoder",
          "assert_conforms")


def test_import_impact_bench_alone_does_not_import_torch():
    found = heavy_among(imported_modules("import impact_bench; impact_bench.__version__"))
    assert found == []
    proc = subprocess.run([sys.executable, "-c", "import sys, impact_bench; print(sorted(m for m in sys.modules "
                                                 "if m.split('.')[0] in ('torch', 'numpy', 'sklearn', 'pandas')))"],
                          capture_output=True, text=True, check=True, timeout=300, cwd=OUTSIDE)
    assert proc.stdout.strip() == "[]"


def test_public_api_resolves_lazily():
    import impact_bench
    from impact_bench import leaderboards, results, runner
    from impact_bench.encoders import catalog as encoders, conformance, protocol
    from impact_bench.suites import catalog as suites

    assert set(PUBLIC) | {"__version__"} <= set(impact_bench.__all__)
    assert set(impact_bench.__all__) <= set(dir(impact_bench))
    assert impact_bench.run is runner.run
    assert impact_bench.RunRequest is runner.RunRequest
    assert impact_bench.build_encoder is encoders.build_encoder
    assert impact_bench.build_leaderboard is leaderboards.build
    assert impact_bench.load_results is results.load_results
    assert impact_bench.get_suite is suites.get_suite
    assert impact_bench.Encoder is protocol.Encoder
    assert impact_bench.assert_conforms is conformance.assert_conforms
    assert isinstance(impact_bench.__version__, str)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        impact_bench.nope  # noqa: B018


def test_public_api_works_from_a_fresh_interpreter():
    """``from impact_bench import …`` of every public name, and an encoder checked through the API alone."""
    code = (f"from impact_bench import {', '.join(PUBLIC)}, __version__\n"
            "import impact_bench as ib\n"
            "enc = ib.build_encoder('logmel-stats')\n"
            "assert isinstance(enc, ib.Encoder)\n"
            "assert ib.get_suite('dinos-synth').name == 'dinos-synth'\n"
            "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=OUTSIDE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "ok"
