"""False-positive rate, power and minimum detectable difference of the paired tests, on the SYNTHETIC DINOS suite.

What it does
------------
1. Writes the synthetic DINOS tree (``impact_bench.synth.dinos_synth.write_dinos_synth``) at ``--scale`` of the
   Table 2 counts (at least 10 clips per class), and embeds it ONCE with ``logmel-stats`` through the real pipeline
   (``impact_bench.pipeline.common.prepare`` + ``embed``: the same clip scan, de-duplication and extraction as
   ``impact-bench run``).
2. Makes two "encoders" from those embeddings: x + σ_A·ε_A and x + σ_B·ε_B, ε independent standard Gaussian noise
   per repetition, σ a multiple of each dimension's standard deviation. Each is probed with the real probe
   (``impact_bench.probe.run_probe``: paper head, 10 seeds, stratified 20/80 splits, standardised inputs), per DINOS
   problem, and the per-problem difference A − B is tested with the paired cluster bootstrap (two-level: clips and
   seeds, the default; and clips only), the corrected resampled t-test (Nadeau & Bengio 2003), the paired t-test and Wilcoxon's signed-rank test.
   - NULL: σ_A = σ_B = ``--noise`` (no real difference): the rejection rate at α = 0.05 is the false-positive rate,
     printed with its exact (Clopper-Pearson) binomial 95 % interval.
   - POWER: σ_A = ``--power-noise`` < σ_B = ``--noise`` (A is really better): the rejection rate is the power.
3. Minimum detectable difference (two-sided α = 0.05, 80 % power), per problem, from the NULL repetitions:
   - cluster bootstrap (each variant): MDD = (z_{0.975} + z_{0.80}) · SE_boot = 2.80 · SE_boot, SE_boot = the
     standard deviation of its bootstrap distribution of the seed-averaged difference (root-mean-square over the
     repetitions);
   - corrected t: MDD = (t_{0.975, k−1} + t_{0.80, k−1}) · SE_NB, SE_NB = sqrt((1/k + n_test/n_train) · s_d²),
     s_d² the variance of the k per-seed differences (mean of s_d² over the repetitions), k = 10.
   Also printed: the empirical standard deviation of the observed difference over the NULL repetitions (what the
   bootstrap SE should match when the clips are the only source of variation; noise redraws add head variation).

How to run
----------
    . .venv/bin/activate
    OMP_NUM_THREADS=1 python scripts/stats_simulation.py --reps 40 --out /tmp/stats_sim      # defaults otherwise
    OMP_NUM_THREADS=1 python scripts/stats_simulation.py --reps 3 --n-boot 300 --out /tmp/s   # smoke test, < 1 min

How long: dominated by the probe (2 encoders × 4 problems × 10 seeds per repetition, for NULL and POWER each).
Measured on 2 shared CPU cores at the defaults (scale 0.005 → 300 clips, the 10-clip-per-class minimum: RenishawL
20, VF2 30, Yornew 170, ColdSpray 80): ≈ 15 s of embedding, then ≈ 7.5 s per repetition (NULL + POWER), so 40
repetitions take ≈ 5-6 min. Use OMP_NUM_THREADS=1 on a shared machine: with torch's default threads and other
jobs on the cores a repetition took 60-120 s. Larger scales add clips only where Table 2 × scale exceeds 10 per
class (scale 0.03 → 378 clips, ≈ 2× slower). Tables go to stdout and, as markdown, to ``<out>/tables.md``.

These are figures for the synthetic suite at the chosen scale; they say how the tests behave on this pipeline,
not what the MDD is on the real DINOS data (whose problems hold 7,528 clips).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import scipy.stats

from impact_bench.distributed import Ranks
from impact_bench.pipeline import common
from impact_bench.pipeline.options import RunRequest
from impact_bench.probe import ProbeConfig, run_probe
from impact_bench.stats.classification import cluster_bootstrap, corrected_resampled_ttest, paired_ttest, wilcoxon
from impact_bench.suites.catalog import get_suite
from impact_bench.synth.dinos_synth import write_dinos_synth

TESTS = ("two-level bootstrap", "clip bootstrap", "corrected t", "paired t", "Wilcoxon")


def embed_suite(root: Path, scale: float) -> tuple[np.ndarray, list[tuple[str, np.ndarray, int]]]:
    """Embeddings of the whole tree and, per problem, (name, rows, labels)."""
    import torch

    spec = get_suite("dinos-synth")
    write_dinos_synth(spec, root, scale, progress=False)
    req = RunRequest(encoder="logmel-stats", suite="dinos-synth", data_root=root, out=root / "_unused",
                     use_cache=False, progress=False)
    p = common.prepare(req, spec, Ranks(0, 1, torch.device("cpu")), lambda _msg: None, drop_duplicates=True)
    x = common.embed(p).embeddings
    problems = []
    for prob in spec.problems:
        rows = np.array([i for i, c in enumerate(p.clips) if c.problem == prob.name])
        y = np.array([list(prob.tasks).index(p.clips[i].task) for i in rows])
        problems.append((prob.name, rows, y))
    return x, problems


def probe_preds(x: np.ndarray, y: np.ndarray, n_classes: int, cfg: ProbeConfig):
    out = run_probe(x, y, n_classes, cfg)
    return [o.test_idx for o in out], [o.y_pred for o in out], out


def one_rep(x: np.ndarray, problems, sd: np.ndarray, sig_a: float, sig_b: float, rng: np.random.Generator,
            cfg: ProbeConfig, n_boot: int, alpha: float) -> dict[str, dict[str, float]]:
    from impact_bench.metrics import scores

    xa = x + sig_a * sd * rng.standard_normal(x.shape).astype(np.float32)
    xb = x + sig_b * sd * rng.standard_normal(x.shape).astype(np.float32)
    res = {}
    for k, (name, rows, y) in enumerate(problems):
        c = int(y.max()) + 1
        tests, pa, oa = probe_preds(xa[rows], y, c, cfg)
        _, pb, ob = probe_preds(xb[rows], y, c, cfg)
        fa = np.array([scores(o.confusion)["macro_f1"] for o in oa])
        fb = np.array([scores(o.confusion)["macro_f1"] for o in ob])
        d = fa - fb
        n_test = len(tests[0])
        n_train = len(rows) - n_test
        boot_seed = int(rng.integers(2**31))
        cb = cluster_bootstrap(y, tests, pa, pb, c, n_boot=n_boot, seed=boot_seed, alpha=alpha, levels="clips")
        c2 = cluster_bootstrap(y, tests, pa, pb, c, n_boot=n_boot, seed=boot_seed, alpha=alpha, levels="clips+seeds")
        ct = corrected_resampled_ttest(d, n_train, n_test, alpha)
        res[name] = {"clip bootstrap": cb.p_value, "two-level bootstrap": c2.p_value, "corrected t": ct.p_value,
                     "se_boot2": float(c2.distribution.std(ddof=1)),
                     "paired t": paired_ttest(d, alpha).p_value, "Wilcoxon": wilcoxon(d).p_value,
                     "diff": float(d.mean()), "se_boot": float(cb.distribution.std(ddof=1)),
                     "var_d": float(d.var(ddof=1)), "n_train": n_train, "n_test": n_test,
                     "f1_a": float(fa.mean()), "f1_b": float(fb.mean())}
    return res


def cp_interval(k: int, n: int) -> tuple[float, float]:
    """Clopper-Pearson exact 95 % interval of a binomial proportion k/n."""
    lo = 0.0 if k == 0 else float(scipy.stats.beta.ppf(0.025, k, n - k + 1))
    hi = 1.0 if k == n else float(scipy.stats.beta.ppf(0.975, k + 1, n - k))
    return lo, hi


def rate_table(reps: list[dict], names: list[str], alpha: float) -> str:
    lines = ["| test | " + " | ".join(names) + " | all problems |", "|---|" + "---|" * (len(names) + 1)]
    for t in TESTS:
        cells = []
        for name in names + [None]:
            ps = [r[n][t] for r in reps for n in ([name] if name else names)]
            k, n = sum(p < alpha for p in ps), len(ps)
            lo, hi = cp_interval(k, n)
            cells.append(f"{k / n:.3f} [{lo:.3f}, {hi:.3f}] ({k}/{n})")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mdd_table(reps: list[dict], names: list[str], seeds: int, alpha: float, power: float) -> str:
    z = scipy.stats.norm.ppf(1 - alpha / 2) + scipy.stats.norm.ppf(power)
    tq = scipy.stats.t.ppf(1 - alpha / 2, seeds - 1) + scipy.stats.t.ppf(power, seeds - 1)
    lines = ["| problem | clips (train/test) | mean F1 | SE two-level | MDD two-level | SE clips | MDD clips | SE_NB | "
             "MDD corrected t | SD of observed diff |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        rs = [r[name] for r in reps]
        se_b = float(np.sqrt(np.mean([r["se_boot"] ** 2 for r in rs])))
        se_2 = float(np.sqrt(np.mean([r["se_boot2"] ** 2 for r in rs])))
        n_train, n_test = rs[0]["n_train"], rs[0]["n_test"]
        se_nb = float(np.sqrt((1 / seeds + n_test / n_train) * np.mean([r["var_d"] for r in rs])))
        f1 = np.mean([(r["f1_a"] + r["f1_b"]) / 2 for r in rs])
        sd_obs = float(np.std([r["diff"] for r in rs], ddof=1))
        lines.append(f"| {name} | {n_train + n_test} ({n_train}/{n_test}) | {f1:.3f} | {se_2:.4f} | {z * se_2:.4f} | "
                     f"{se_b:.4f} | {z * se_b:.4f} | "
                     f"{se_nb:.4f} | {tq * se_nb:.4f} | {sd_obs:.4f} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.005, help="share of the Table 2 counts (min 10 clips per class)")
    ap.add_argument("--reps", type=int, default=40, help="repetitions for NULL and for POWER each")
    ap.add_argument("--noise", type=float, default=1.0, help="σ of both encoders under NULL (× per-dim SD)")
    ap.add_argument("--power-noise", type=float, default=0.5, help="σ of encoder A under POWER (B keeps --noise)")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--out", type=Path, default=Path("stats_sim"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    x, problems = embed_suite(args.out / "dinos_synth", args.scale)
    names = [n for n, _, _ in problems]
    print(f"embedded {len(x)} clips ({x.shape[1]} dims) in {time.perf_counter() - t0:.1f} s; problems "
          + ", ".join(f"{n} {len(r)}" for n, r, _ in problems), flush=True)
    sd = x.std(axis=0, keepdims=True).astype(np.float32)
    cfg = ProbeConfig(seeds=args.seeds, train_fraction=0.2, standardize=True)
    rng = np.random.default_rng(args.seed)
    runs: dict[str, list[dict]] = {"null": [], "power": []}
    for r in range(args.reps):
        for kind, sig_a in (("null", args.noise), ("power", args.power_noise)):
            runs[kind].append(one_rep(x, problems, sd, sig_a, args.noise, rng, cfg, args.n_boot, args.alpha))
        print(f"rep {r + 1}/{args.reps} done, {time.perf_counter() - t0:.0f} s", flush=True)
    power_gap = {n: np.mean([r[n]["diff"] for r in runs["power"]]) for n in names}
    text = "\n".join([
        f"SYNTHETIC dinos-synth, scale {args.scale} ({len(x)} clips), logmel-stats + Gaussian noise, "
        f"{args.seeds} seeds of 20/80 splits, {args.reps} repetitions each, {args.n_boot} bootstrap resamples, "
        f"α = {args.alpha}, {os.cpu_count()} CPUs visible, {time.perf_counter() - t0:.0f} s in all.", "",
        f"NULL (σ_A = σ_B = {args.noise}): rejection rate = false-positive rate [Clopper-Pearson 95 %] (k/n)", "",
        rate_table(runs["null"], names, args.alpha), "",
        f"POWER (σ_A = {args.power_noise}, σ_B = {args.noise}): rejection rate; mean true gap A − B per problem "
        + ", ".join(f"{n} {g:+.3f}" for n, g in power_gap.items()), "",
        rate_table(runs["power"], names, args.alpha), "",
        "Minimum detectable difference in macro-F1 (two-sided α = 0.05, 80 % power), from the NULL repetitions", "",
        mdd_table(runs["null"], names, args.seeds, args.alpha, 0.8), ""])
    print(text)
    (args.out / "tables.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
