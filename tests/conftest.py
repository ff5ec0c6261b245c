"""Shared fixtures: a tiny synthetic DINOS tree (10 clips per class, written once per session)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import importlib.util

if importlib.util.find_spec("impact_bench.task_files") is None:  # source tree shadowing the install
    raise RuntimeError("impact_bench is imported from the source tree without its mapped subpackages: install it "
                       "(pip install . or pip install -e .) and run `pytest`, not `python -m pytest`, from the repo root")

from impact_bench.suites.catalog import get_suite  # noqa: E402
from impact_bench.synth.dinos_synth import write_dinos_synth  # noqa: E402


@pytest.fixture(scope="session")
def synth_spec():
    return get_suite("dinos-synth")


@pytest.fixture(scope="session")
def tiny_tree(tmp_path_factory, synth_spec) -> Path:
    root = tmp_path_factory.mktemp("dinos_tiny")
    write_dinos_synth(synth_spec, root, scale=0.001, progress=False)  # → the 10-clip minimum per class
    return root


@pytest.fixture()
def tree_copy(tiny_tree, tmp_path) -> Path:
    """A private copy a test may damage."""
    dst = tmp_path / "data"
    shutil.copytree(tiny_tree, dst)
    return dst


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IMPACT_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("IMPACT_BENCH_DINOS_ROOT", raising=False)
    monkeypatch.delenv("IMPACT_BENCH_DINOS_SYNTH_ROOT", raising=False)


def write_wav(path: Path, data: np.ndarray, rate: int = 48_000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, rate, subtype="PCM_16" if np.isfinite(data).all() else "FLOAT")
    return path


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a test module (its encoders' numbers must not depend on the thread count)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
