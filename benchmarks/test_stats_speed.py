"""Speed of the paired statistics (impact_bench.stats) on leaderboard-sized inputs.

(a) Cluster bootstrap, every pair of 10 encoders, DINOS-sized: the four probe problems of
``tasks/dinos.yaml`` with the Table 2 clip counts (``leaderboards/published/dinos_table2_tasks.csv``:
RenishawL T1-T2 = 524, VF2 T3-T5 = 1,118, Yornew T6-T22 = 922, ColdSpray T23-T30 = 4,964 clips), 10 seeds
of stratified 20/80 splits (``train_test_split(stratify=y, random_state=seed)`` as the probe), synthetic
predictions (per-clip difficulty shared by the encoders, accuracy 0.70-0.95, uniform wrong classes),
10,000 resamples. Target < 10 s on 2 cores. Reference: the plain loop over resamples (same draws, one
``macro_f1`` per resample, seed and encoder) on 100 resamples, extrapolated linearly to 10,000 (its cost
is linear in the number of resamples); the vectorised path on the same 100 resamples must agree exactly.
(b) DeLong AUCs + covariance for 10 encoders on 10,000 clips, target < 2 s, against a loop over scorers
and clips of the definition (placement values psi, O(n_pos · n_neg) per scorer).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.model_selection import train_test_split

from impact_bench.stats import cluster_bootstrap_pairwise, delong_many
from impact_bench.stats._cluster import bootstrap_f1_reference, bootstrap_f1_seeds, prepare

ROOT = Path(__file__).resolve().parents[1]
ENCODERS, SEEDS, N_BOOT, REF_BOOT = 10, 10, 10_000, 100
RESULTS: dict[str, object] = {}


def dinos_problems() -> dict[str, list[int]]:
    """Clip count per class of each probe problem, from the task file and the Table 2 counts."""
    with open(ROOT / "leaderboards/published/dinos_table2_tasks.csv", newline="") as fh:
        samples = {row["task"]: int(row["samples"]) for row in csv.DictReader(fh)}
    spec = yaml.safe_load((ROOT / "tasks/dinos.yaml").read_text())
    return {p["name"]: [samples[t] for t in p["tasks"]] for p in spec["problems"]}


@pytest.fixture(scope="module")
def problems() -> list[tuple[np.ndarray, list[np.ndarray], list[list[np.ndarray]], int]]:
    rng = np.random.default_rng(0)
    out = []
    for counts in dinos_problems().values():
        k = len(counts)
        y = np.repeat(np.arange(k), counts)
        tests = [np.sort(train_test_split(np.arange(y.size), train_size=0.2, stratify=y, random_state=s)[1])
                 for s in range(SEEDS)]
        ease = rng.beta(4, 1.5, y.size)
        preds = []
        for e in range(ENCODERS):
            q = np.clip(ease + 0.25 * e / (ENCODERS - 1) - 0.1, 0, 1)
            per_seed = []
            for t in tests:
                p = y[t].copy()
                wrong = rng.random(t.size) > q[t]
                p[wrong] = (p[wrong] + rng.integers(1, k, wrong.sum())) % k
                per_seed.append(p)
            preds.append(per_seed)
        out.append((y, tests, preds, k))
    assert [p[0].size for p in out] == [524, 1118, 922, 4964]
    return out


@pytest.mark.benchmark(group="stats-bootstrap")
def test_cluster_bootstrap_reference_loop(benchmark, problems):
    probs = [prepare(y, t, p, k) for y, t, p, k in problems]
    out = benchmark.pedantic(lambda: [bootstrap_f1_reference(pr, REF_BOOT, 0) for pr in probs], rounds=1, iterations=1)
    for pr, ref in zip(probs, out):
        np.testing.assert_array_equal(bootstrap_f1_seeds(pr, REF_BOOT, 0), ref)
    RESULTS["bootstrap_ref"] = benchmark.stats.stats.median * N_BOOT / REF_BOOT


@pytest.mark.benchmark(group="stats-bootstrap")
def test_cluster_bootstrap_pairwise_dinos(benchmark, problems):
    def run():
        return [cluster_bootstrap_pairwise(y, t, p, k, n_boot=N_BOOT, seed=0) for y, t, p, k in problems]
    out = benchmark.pedantic(run, rounds=3, iterations=1)
    ours = benchmark.stats.stats.median
    assert all(r.p_value.shape == (ENCODERS, ENCODERS) and r.distribution.shape == (N_BOOT, ENCODERS) for r in out)
    ref = RESULTS.get("bootstrap_ref")
    extra = f", reference loop {ref:.0f} s (extrapolated from {REF_BOOT}) = {ref / ours:.0f}x" if ref else ""
    print(f"\ncluster bootstrap, 10 encoders x 4 DINOS problems x {SEEDS} seeds x {N_BOOT} resamples: "
          f"{ours:.2f} s{extra}")
    assert ours < 10.0


def _delong_loop(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The definition, one scorer and one clip at a time (vectorised over the other class only)."""
    pos, neg = y == 1, y == 0
    k, m, n = scores.shape[0], int(pos.sum()), int(neg.sum())
    v10, v01 = np.empty((k, m)), np.empty((k, n))
    for r in range(k):
        x, z = scores[r, pos], scores[r, neg]
        for i in range(m):
            v10[r, i] = np.mean((x[i] > z) + 0.5 * (x[i] == z))
        for j in range(n):
            v01[r, j] = np.mean((x > z[j]) + 0.5 * (x == z[j]))
    return v10.mean(axis=1), np.cov(v10) / m + np.cov(v01) / n


@pytest.fixture(scope="module")
def auc_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    y = (rng.random(10_000) < 0.3).astype(int)
    s = np.round(rng.normal(size=(ENCODERS, 10_000)) + np.linspace(0.5, 1.5, ENCODERS)[:, None] * y, 3)
    return y, s


@pytest.mark.benchmark(group="stats-delong")
def test_delong_reference_loop(benchmark, auc_data):
    RESULTS["delong_ref_out"] = benchmark.pedantic(lambda: _delong_loop(*auc_data), rounds=1, iterations=1)
    RESULTS["delong_ref"] = benchmark.stats.stats.median


@pytest.mark.benchmark(group="stats-delong")
def test_delong_many_10k_x_10(benchmark, auc_data):
    r = benchmark.pedantic(lambda: delong_many(*auc_data), rounds=5, iterations=1)
    ours = benchmark.stats.stats.median
    extra = ""
    if "delong_ref_out" in RESULTS:
        auc, cov = RESULTS["delong_ref_out"]
        np.testing.assert_allclose(r.auc, auc, rtol=0, atol=1e-12)
        np.testing.assert_allclose(r.cov, cov, rtol=1e-9, atol=1e-15)
        extra = f", loop {RESULTS['delong_ref']:.2f} s = {RESULTS['delong_ref'] / ours:.0f}x"
    print(f"\nDeLong 10 scorers x 10,000 clips: {ours * 1e3:.1f} ms{extra}")
    assert ours < 2.0
