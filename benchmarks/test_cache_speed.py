"""Warm-cache rerun vs cold run of the same encoder and suite (full pipeline through the runner:
hashing, scanning, extraction or cache lookup, 10-seed probe, results file)."""
from __future__ import annotations

import shutil

import pytest

from impact_bench.runner import RunRequest, run

ENCODER = "opensmile"  # extraction-bound, as real encoders are; eGeMAPSv02 keeps its probe cheap
OPTIONS = {"feature_set": "eGeMAPSv02"}
MEASURED: dict[str, float] = {}


def _request(tree, tmp, name):
    return RunRequest(encoder=ENCODER, suite="dinos-synth", data_root=tree, out=tmp / name,
                      encoder_options=OPTIONS, cache_dir=tmp / "cache", progress=False)


@pytest.mark.benchmark(group="warm-vs-cold")
def test_cold_run(benchmark, full_tree, tmp_path_factory):
    pytest.importorskip("opensmile")
    tmp = tmp_path_factory.mktemp("cold")

    def cold():
        shutil.rmtree(tmp, ignore_errors=True)
        run(_request(full_tree, tmp, "out"), log=lambda _: None)

    benchmark.pedantic(cold, rounds=1, iterations=1)
    MEASURED["cold"] = benchmark.stats.stats.min
    MEASURED["tmp"] = tmp  # type: ignore[assignment]


@pytest.mark.benchmark(group="warm-vs-cold")
def test_warm_run(benchmark, full_tree):
    pytest.importorskip("opensmile")
    if "tmp" not in MEASURED:
        pytest.skip("needs test_cold_run first")
    tmp = MEASURED["tmp"]
    counter = iter(range(100))

    def warm():  # a fresh results folder each round, the embedding cache warm
        run(_request(full_tree, tmp, f"warm{next(counter)}"), log=lambda _: None)

    benchmark.pedantic(warm, rounds=3, iterations=1)
    ratio = MEASURED["cold"] / benchmark.stats.stats.min
    benchmark.extra_info["speedup"] = ratio
    print(f"\nwarm-cache speedup {ratio:.1f}x")
    assert ratio >= 20
