"""The 10-seed probe over all four problems on cached 768-d embeddings of the full-size
synthetic suite: the batched fast path vs the straightforward per-seed DataLoader loop
(``reference_probe.py``), measured in the same run. The ratio and the F1 agreement are written to
the benchmark's ``extra_info`` and printed."""
from __future__ import annotations

import numpy as np
import pytest

from impact_bench.metrics import scores
from impact_bench.probe import ProbeConfig, run_probe
from reference_probe import reference_probe

CFG = ProbeConfig()  # the paper protocol: 10 seeds, 20/80, 100 epochs, patience 10
MEASURED: dict[str, tuple[float, float]] = {}  # name → (seconds, mean macro-F1 over problems)


def _fast(problems):
    return float(np.mean([np.mean([scores(o.confusion)["macro_f1"] for o in run_probe(x, y, c, CFG)])
                          for x, y, c in problems.values()]))


def _reference(problems):
    return float(np.mean([np.mean([scores(cm)["macro_f1"] for cm in reference_probe(x, y, c, CFG)])
                          for x, y, c in problems.values()]))


@pytest.mark.benchmark(group="probe-10-seeds-4-problems")
def test_reference_loop(benchmark, emb768):
    f1 = benchmark.pedantic(_reference, args=(emb768,), rounds=1, iterations=1)
    MEASURED["reference"] = (benchmark.stats.stats.min, f1)


@pytest.mark.benchmark(group="probe-10-seeds-4-problems")
def test_fast_probe(benchmark, emb768):
    f1 = benchmark.pedantic(_fast, args=(emb768,), rounds=3, iterations=1)
    MEASURED["fast"] = (benchmark.stats.stats.min, f1)
    if "reference" in MEASURED:
        ref_s, ref_f1 = MEASURED["reference"]
        benchmark.extra_info.update(speedup=ref_s / MEASURED["fast"][0], fast_f1=f1, reference_f1=ref_f1)
        print(f"\nprobe speedup {ref_s / MEASURED['fast'][0]:.2f}x; mean macro-F1 fast {f1:.4f} vs reference {ref_f1:.4f}")
        assert abs(f1 - ref_f1) <= 0.01
        assert ref_s / MEASURED["fast"][0] >= 2.0  # regression guard; see benchmarks/README.md for the figures
