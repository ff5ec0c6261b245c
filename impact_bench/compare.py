"""Paired comparison of probe-suite runs (DINOS, LISTEN on-site, any classification suite) and of
unsupervised anomaly runs (:func:`check_anomaly`; the tests in :mod:`impact_bench.anomaly.paired`).

Two runs pair only when they saw the same clips in the same order and the same splits: same suite
and version, data fingerprint, split scheme, seeds and training fraction, per-problem clip order
(``clips_sha256``) and per-seed test indices; otherwise :class:`ComparisonError` names the field.

Per problem and overall (overall = per-seed mean over problems): the default test is the paired
**two-level cluster bootstrap** (:func:`impact_bench.stats.classification.cluster_bootstrap_pairwise`:
clips resampled within class, every seed's prediction of a resampled clip kept together, plus the
seeds' shrunken head effects; ``levels="clips"`` holds the heads fixed); problems are resampled
independently and the overall distribution is the mean of theirs. Also reported, each for
what it is: the corrected resampled t-test (Nadeau & Bengio 2003; very conservative with 20/80
splits), the plain paired t-test over seeds (anti-conservative: the splits overlap) and Wilcoxon's
signed-rank test. Files from before schema 1.2 lack per-clip data: only the per-seed tests are given.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from impact_bench.errors import ImpactBenchError
from impact_bench.stats._common import percentile_summary
from impact_bench.stats.classification import (DEFAULT_LEVELS, cluster_bootstrap_pairwise, corrected_resampled_ttest,
                                               paired_ttest, wilcoxon)
from impact_bench.stats.multiple import adjust, tie_groups

N_BOOT = 10_000


class ComparisonError(ImpactBenchError):
    """Two results files that cannot be paired (different data, suite, splits or protocol)."""


def _get(res: dict[str, Any], path: str) -> Any:
    value: Any = res
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


PAIRING_FIELDS = ("kind", "suite.name", "suite.version", "suite.data_fingerprint.content_sha256", "protocol.split",
                  "protocol.probe.seeds", "protocol.probe.train_fraction")


ANOMALY_PAIRING_FIELDS = ("kind", "suite.name", "suite.version", "suite.data_fingerprint.content_sha256",
                          "suite.layout", "protocol.year", "protocol.scheme", "protocol.domains", "protocol.toy2022")


def _same_fields(first: dict[str, Any], res: dict[str, Any], first_name: str, name: str,
                 fields: tuple[str, ...]) -> None:
    for field in fields:
        a, b = _get(first, field), _get(res, field)
        if a != b:
            raise ComparisonError(f"{name}: field '{field}' is {b!r} but {a!r} in {first_name}; the runs are not "
                                  f"comparable")


def check_comparable(runs: list[dict[str, Any]], names: list[str]) -> None:
    """Every run pairs with the first; the error names the field and the two values."""
    first = runs[0]
    if first.get("kind") == "anomaly":
        return check_anomaly(runs, names)
    if first.get("kind") != "classification":
        raise ComparisonError(f"{names[0]}: field 'kind' is {first.get('kind')!r}; compare handles classification "
                              f"(probe) suites and unsupervised anomaly suites")
    for res, name in zip(runs[1:], names[1:]):
        _same_fields(first, res, names[0], name, PAIRING_FIELDS)
        probs_a, probs_b = [p["name"] for p in first["problems"]], [p["name"] for p in res["problems"]]
        if probs_a != probs_b:
            raise ComparisonError(f"{name}: field 'problems' holds {probs_b}, {names[0]} holds {probs_a}")
        for pa, pb in zip(first["problems"], res["problems"]):
            if pa.get("clips_sha256") != pb.get("clips_sha256") or pa.get("tasks") != pb.get("tasks"):
                raise ComparisonError(f"{name}: field 'problems.{pa['name']}.clips_sha256' differs: the runs hold "
                                      f"different clips or orders")
            for sa, sb in zip(pa["seeds"], pb["seeds"]):
                if sa.get("test_idx") is not None and sb.get("test_idx") is not None and sa["test_idx"] != sb["test_idx"]:
                    raise ComparisonError(f"{name}: field 'problems.{pa['name']}.seeds.{sa['seed']}.test_idx' differs: "
                                          f"the splits are not the same")


def check_anomaly(runs: list[dict[str, Any]], names: list[str]) -> None:
    """Unsupervised anomaly runs pair when they scored the same data under the same year's rules, and hold
    per-clip data (``sets.<set>.clips``) for the same units, the same clip names and the same labels and
    domains; the back end (and the encoder) may differ."""
    first = runs[0]
    if _get(first, "protocol.scheme") == "supervised":
        raise ComparisonError(f"{names[0]}: field 'protocol.scheme' is 'supervised'; compare handles the unsupervised "
                              f"anomaly protocol (per-clip scores) and classification suites")
    scored = sorted(k for k, v in first["sets"].items() if v.get("scored"))
    for res, name in zip(runs, names):
        for s in scored:
            if not res["sets"].get(s, {}).get("clips"):
                raise ComparisonError(f"{name}: field 'sets.{s}.clips' is missing: the file predates per-clip anomaly "
                                      f"data (or the set is not scored); rerun it to compare")
    for res, name in zip(runs[1:], names[1:]):
        _same_fields(first, res, names[0], name, ANOMALY_PAIRING_FIELDS)
        other = sorted(k for k, v in res["sets"].items() if v.get("scored"))
        if other != scored:
            raise ComparisonError(f"{name}: field 'sets' has scored sets {other}, {names[0]} has {scored}")
        for s in scored:
            ca, cb = first["sets"][s]["clips"], res["sets"][s]["clips"]
            ua = sorted((m, u) for m in ca for u in ca[m])
            ub = sorted((m, u) for m in cb for u in cb[m])
            if ua != ub:
                raise ComparisonError(f"{name}: field 'sets.{s}.clips' holds units {[f'{m}/{u}' for m, u in ub]}, "
                                      f"{names[0]} holds {[f'{m}/{u}' for m, u in ua]}")
            for m, u in ua:
                xa, xb = ca[m][u], cb[m][u]
                if sorted(xa["names"]) != sorted(xb["names"]):
                    raise ComparisonError(f"{name}: field 'sets.{s}.clips.{m}.{u}.names' differs: the runs scored "
                                          f"different clips")
                for key in ("labels", "domains"):
                    if dict(zip(xa["names"], xa[key])) != dict(zip(xb["names"], xb[key])):
                        raise ComparisonError(f"{name}: field 'sets.{s}.clips.{m}.{u}.{key}' differs: the runs used "
                                              f"different ground truth")


def _has_clips(problem: dict[str, Any]) -> bool:
    return problem.get("y_true") is not None and all(s.get("y_pred") is not None for s in problem["seeds"])


def _seed_tests(d: np.ndarray, n_train: int, n_test: int, alpha: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if d.size >= 2:
        for key, res in (("corrected_t", corrected_resampled_ttest(d, n_train, n_test, alpha)),
                         ("paired_t", paired_ttest(d, alpha))):
            out[key] = {"t": res.t, "df": res.df, "p": res.p_value, "ci": [res.ci_low, res.ci_high]}
        w = wilcoxon(d)
        out["wilcoxon"] = {"statistic": w.statistic, "p": w.p_value, "note": w.note}
    return out


@dataclass
class Matrix:
    """Every ordered pair of runs, for one problem or overall."""

    means: np.ndarray                    # (E,) seed-averaged macro-F1
    diff: np.ndarray                     # (E, E) row − column
    ci: np.ndarray | None                # (E, E, 2) bootstrap percentile CI
    p: np.ndarray | None                 # (E, E) bootstrap p-values (None: no per-clip data)
    per_seed: np.ndarray                 # (E, S) macro-F1 per seed


def pairwise(runs: list[dict[str, Any]], n_boot: int = N_BOOT, seed: int = 0,
             alpha: float = 0.05, levels: str = DEFAULT_LEVELS) -> dict[str, Matrix]:
    """problem name (and "overall") → :class:`Matrix` over the runs, from one set of resamples per problem."""
    out: dict[str, Matrix] = {}
    dists, per_seed_all = [], []
    clip_level = all(_has_clips(p) for r in runs for p in r["problems"])
    for k, prob in enumerate(runs[0]["problems"]):
        per_seed = np.array([[s["macro_f1"] for s in r["problems"][k]["seeds"]] for r in runs])
        per_seed_all.append(per_seed)
        means = per_seed.mean(axis=1)
        if clip_level:
            tests = [np.asarray(s["test_idx"]) for s in prob["seeds"]]
            preds = [[np.asarray(s["y_pred"]) for s in r["problems"][k]["seeds"]] for r in runs]
            res = cluster_bootstrap_pairwise(np.asarray(prob["y_true"]), tests, preds, len(prob["tasks"]), n_boot,
                                             seed + k, alpha, levels)  # problems resampled independently
            dists.append(res.differences)
            ci = np.stack([res.ci_low, res.ci_high], axis=-1)
            out[prob["name"]] = Matrix(means, res.diff, ci, res.p_value, per_seed)
        else:
            out[prob["name"]] = Matrix(means, means[:, None] - means[None, :], None, None, per_seed)
    overall_seed = np.mean(per_seed_all, axis=0)  # (E, S): per-seed mean over problems
    means = overall_seed.mean(axis=1)
    ci = p = None
    if clip_level:
        dist = np.mean(dists, axis=0)  # (n_boot, E, E): row − column, mean over problems
        e = len(runs)
        ci, p = np.zeros((e, e, 2)), np.ones((e, e))
        for i in range(e):
            for j in range(e):
                if i != j:
                    lo, hi, p[i, j] = percentile_summary(dist[:, i, j], alpha)
                    ci[i, j] = (lo, hi)
    out["overall"] = Matrix(means, means[:, None] - means[None, :], ci, p, overall_seed)
    return out


def compare_two(a: dict[str, Any], b: dict[str, Any], n_boot: int | None = None, seed: int = 0,
                alpha: float = 0.05, levels: str = DEFAULT_LEVELS) -> dict[str, Any]:
    """The full paired report of A − B: per problem and overall, every test labelled (anomaly runs:
    :func:`impact_bench.anomaly.paired.compare_anomaly`, per set, machine type and unit)."""
    if a.get("kind") == "anomaly":
        from impact_bench.anomaly.paired import compare_anomaly
        return compare_anomaly(a, b, n_boot, seed, alpha) if n_boot else compare_anomaly(a, b, seed=seed, alpha=alpha)
    n_boot = n_boot or N_BOOT
    mats = pairwise([a, b], n_boot, seed, alpha, levels)
    frac = float(a["protocol"]["probe"]["train_fraction"])
    rows = {}
    for name, m in mats.items():
        prob = next((p for p in a["problems"] if p["name"] == name), None)
        n = prob["n_clips"] if prob else sum(p["n_clips"] for p in a["problems"])
        n_train = int(round(n * frac)) if a["protocol"]["split"] == "paper" else \
            (prob["seeds"][0]["n_train"] if prob else sum(p["seeds"][0]["n_train"] for p in a["problems"]))
        n_test = (n - n_train) if a["protocol"]["split"] == "paper" else \
            (prob["seeds"][0]["n_test"] if prob else sum(p["seeds"][0]["n_test"] for p in a["problems"]))
        d = m.per_seed[0] - m.per_seed[1]
        row: dict[str, Any] = {"mean_a": float(m.means[0]), "mean_b": float(m.means[1]), "diff": float(m.diff[0, 1])}
        if m.p is not None:
            row["cluster_bootstrap"] = {"p": float(m.p[0, 1]), "ci": [float(x) for x in m.ci[0, 1]], "n_boot": n_boot,
                                        "seed": seed, "levels": levels}
        row.update(_seed_tests(d, n_train, n_test, alpha))
        rows[name] = row
    problems = [k for k in rows if k != "overall"]
    if all("cluster_bootstrap" in rows[k] for k in problems):
        holm = adjust(np.array([rows[k]["cluster_bootstrap"]["p"] for k in problems]), "holm")
        for k, ph in zip(problems, holm):
            rows[k]["cluster_bootstrap"]["p_holm"] = float(ph)
    return {"a": a["encoder"].get("label") or a["encoder"]["name"], "b": b["encoder"].get("label") or
            b["encoder"]["name"], "suite": a["suite"]["name"], "alpha": alpha,
            "default_test": "cluster_bootstrap" if "cluster_bootstrap" in rows["overall"] else "corrected_t",
            "note": None if "cluster_bootstrap" in rows["overall"] else
            "a file lacks per-clip data (schema < 1.2): only per-seed tests are possible",
            "rows": rows}


def rank_with_ties(runs: list[dict[str, Any]], alpha: float = 0.05, method: str = "holm",
                   n_boot: int = N_BOOT, seed: int = 0, levels: str = DEFAULT_LEVELS) -> list[int] | None:
    """Rank of each run on the overall score, tie groups by the cluster bootstrap (None without per-clip data)."""
    if len(runs) < 2:
        return [1] * len(runs)
    m = pairwise(runs, n_boot, seed, alpha, levels)["overall"]
    if m.p is None:
        return None
    return tie_groups(m.means, m.p, alpha, method)
