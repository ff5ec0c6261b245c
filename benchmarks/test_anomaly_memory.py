"""Peak RSS of a whole anomaly run (``impact-bench run`` on ``dcase2024-synth``) at two suite sizes, each
in a fresh subprocess (``ru_maxrss`` of the child). The run keeps one (N, D) float32 embedding matrix
and one batch of audio, so peak memory must stay flat as the suite grows; asserts < 2 GB and a
growth under 25 % for 3x the clips. (A full DCASE-2024-sized synthetic tree, 19,200 ten-second clips,
takes ~20 min to write on 2 cores; the two sizes here bound the slope instead.)
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from impact_bench.suites.catalog import get_suite
from impact_bench.synth.catalog import write_suite_data

SIZES = {"small": 0.02, "large": 0.06}
PEAK: dict[str, tuple[int, float]] = {}
CHILD = """
import resource, sys
from pathlib import Path
from impact_bench.runner import RunRequest, run
run(RunRequest(encoder="logmel-stats", suite="dcase2024-synth", data_root=Path(sys.argv[1]), out=Path(sys.argv[2]),
               use_cache=False, progress=False), log=lambda m: None)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.benchmark(group="anomaly-memory")
def test_peak_rss_flat_in_suite_size(benchmark, tmp_path_factory, size):
    root = tmp_path_factory.mktemp(f"d24-{size}")
    write_suite_data(get_suite("dcase2024-synth"), root, SIZES[size], machines=2, progress=False)
    out = root / "results"

    def once() -> int:
        done = subprocess.run([sys.executable, "-c", CHILD, str(root), str(out)], capture_output=True, text=True,
                              cwd=root, check=True)
        return int(done.stdout.split()[-1])
    kib = benchmark.pedantic(once, rounds=1, iterations=1)
    files = json.loads(next(out.glob("*.json")).read_text())["suite"]["data_fingerprint"]["files"]
    PEAK[size] = (files, kib / 1024)
    print(f"\n{size}: {files} clips, peak RSS {kib / 1024:.0f} MiB")
    assert kib / 1024 < 2048
    if len(PEAK) == 2:
        (n_small, small), (n_large, large) = PEAK["small"], PEAK["large"]
        assert n_large > 2 * n_small
        print(f"peak RSS ratio large/small = {large / small:.3f} for {n_large / n_small:.2f}x the clips")
        assert large / small < 1.25
