"""Benchmark fixtures: the full-size dinos-synth tree and 768-d embeddings of it.

The tree is written once to ``$IMPACT_BENCH_BENCH_DATA`` (default ``~/.cache/impact-bench/bench``)
and reused; generating it takes a few minutes on 2 cores.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from impact_bench.encoders.catalog import build_encoder  # noqa: E402
from impact_bench.extract import extract  # noqa: E402
from impact_bench.suites import dinos  # noqa: E402
from impact_bench.suites.catalog import get_suite  # noqa: E402
from impact_bench.synth.dinos_synth import write_dinos_synth  # noqa: E402

BENCH_ROOT = Path(os.environ.get("IMPACT_BENCH_BENCH_DATA", Path.home() / ".cache" / "impact-bench" / "bench"))


@pytest.fixture(scope="session")
def full_tree() -> Path:
    root = BENCH_ROOT / "dinos-synth-full"
    write_dinos_synth(get_suite("dinos-synth"), root, 1.0, progress=True)
    return root


@pytest.fixture(scope="session")
def emb768(full_tree):
    """768-d embeddings of all 7,528 clips: logmel-stats with 384 mel bands (mean + std), then one
    label-free z-score per dimension over the whole suite.

    Why the z-score: raw dB statistics (magnitudes ~100) make some RenishawL seeds collapse to the
    majority class at random, so two correct implementations of the probe then differ by up to
    0.09 macro-F1 on that problem through float rounding alone. O(1) features, like a neural
    encoder's outputs, make the F1 comparison meaningful; the speed is unaffected.
    """
    spec = get_suite("dinos-synth")
    index = dinos.scan(full_tree, spec)
    enc = build_encoder("logmel-stats", options={"n_mels": 384})
    ext = extract(enc, index.clips, spec.audio, BENCH_ROOT / "cache", batch_size=64, progress=True)
    emb = ext.embeddings
    emb = ((emb - emb.mean(0)) / (emb.std(0) + 1e-8)).astype(np.float32)
    problems = {}
    for prob in spec.problems:
        rows = [i for i, c in enumerate(index.clips) if c.problem == prob.name]
        y = np.array([list(prob.tasks).index(index.clips[i].task) for i in rows])
        problems[prob.name] = (emb[rows], y, len(prob.tasks))
    return problems
