"""The worked plugin package under examples/ installs, is listed, and passes check-encoder."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugin-encoder"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, str]:
    pytest.importorskip("setuptools")  # the example's build backend; no download with --no-build-isolation
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--target", str(target), str(EXAMPLE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))}
    env.pop("IMPACT_BENCH_NO_PLUGINS", None)
    return env


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "impact_bench.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd)


def test_listed_as_a_plugin_and_conforms(installed, tmp_path):
    listing = _cli(installed, tmp_path, "list", "encoders")
    assert listing.returncode == 0, listing.stderr
    row = next(line for line in listing.stdout.splitlines() if line.startswith("spectral-shape"))
    assert "plugin:impact-bench-example-encoder" in row
    check = _cli(installed, tmp_path, "check-encoder", "spectral-shape")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "8 passed, 0 failed" in check.stdout


def test_no_plugins_hides_it(installed, tmp_path):
    listing = _cli({**installed, "IMPACT_BENCH_NO_PLUGINS": "1"}, tmp_path, "list", "encoders")
    assert listing.returncode == 0 and "spectral-shape" not in listing.stdout
