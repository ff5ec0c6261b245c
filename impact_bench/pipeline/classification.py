"""Classification suites (DINOS, LISTEN on-site): embeddings → one probe unit per problem (all seeds).

Units are written atomically into ``<out>/.<suite>__<label>.partial/``; the results file appears only
when every unit is done, and a re-run resumes from the finished units.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from impact_bench.cache import canonical_hash
from impact_bench.errors import DataError
from impact_bench.listen_head import ListenHeadConfig, run_listen_probe
from impact_bench.metrics import mean_std, scores
from impact_bench.pipeline import common
from impact_bench.pipeline.options import RunRequest
from impact_bench.probe import ProbeConfig, run_probe
from impact_bench.suites.spec import SuiteSpec


def probe_config(spec: SuiteSpec, head: str | None, seeds: int | None,
                 standardize: bool) -> ProbeConfig | ListenHeadConfig:
    """The suite's probe settings with the run's overrides: ``head`` (paper | listen), ``seeds``."""
    fields = spec.probe.model_dump(exclude={"split", "head"})
    if seeds is not None:
        fields["seeds"] = seeds
    head = head or spec.probe.head
    if head == "listen":
        return ListenHeadConfig(seeds=fields["seeds"], train_fraction=fields["train_fraction"], standardize=standardize)
    if head != "paper":
        raise DataError(f"--probe {head!r}: expected paper or listen")
    return ProbeConfig(**fields, standardize=standardize)


def probe_unit(problem: Any, x: np.ndarray, clips: list[Any], cfg: ProbeConfig | ListenHeadConfig, split: str,
               device: str) -> dict[str, Any]:
    """All seeds of one problem: per-seed scores, means ± std, summed confusion matrix."""
    tasks = list(problem.tasks)
    rows = [i for i, c in enumerate(clips) if c.problem == problem.name]
    y = np.array([tasks.index(clips[i].task) for i in rows])
    fixed = None
    if split == "official":
        tr = np.array([k for k, i in enumerate(rows) if clips[i].release_split == "train"])
        te = np.array([k for k, i in enumerate(rows) if clips[i].release_split == "test"])
        if len(tr) == 0 or len(te) == 0:
            raise DataError(f"{problem.name}: --split official needs clips in both the release's train and test sets")
        fixed = (tr, te)
    t0 = time.perf_counter()
    if isinstance(cfg, ListenHeadConfig):
        outcomes = run_listen_probe(x[rows], y, len(tasks), cfg, device=device, fixed_split=fixed)
    else:
        outcomes = run_probe(x[rows], y, len(tasks), cfg, device=device, fixed_split=fixed)
    seeds = []
    for o in outcomes:
        if np.intersect1d(o.train_idx, o.test_idx).size:  # a real check, not an assert (kept under python -O)
            raise DataError(f"{problem.name}: seed {o.seed} has clips in both its training and test split")
        sc = scores(o.confusion)
        seeds.append({"seed": o.seed, "macro_f1": sc["macro_f1"], "accuracy": sc["accuracy"],
                      "balanced_accuracy": sc["balanced_accuracy"],
                      "per_task_f1": dict(zip(tasks, sc["per_class_f1"])), "epochs": o.epochs,
                      "final_train_loss": o.final_train_loss, "n_train": len(o.train_idx), "n_test": len(o.test_idx),
                      # per-clip data for paired comparisons: positions in this problem's clip order
                      "test_idx": o.test_idx.astype(int).tolist(), "y_pred": o.y_pred.astype(int).tolist()})
    total_cm = sum(o.confusion for o in outcomes)
    return {
        "name": problem.name, "machine": problem.machine, "tasks": tasks, "n_clips": len(rows),
        "y_true": y.astype(int).tolist(),  # class index per clip, in the order below
        "clips_sha256": canonical_hash([clips[i].relpath for i in rows]),  # the clip order (pairing check)
        "macro_f1": mean_std([s["macro_f1"] for s in seeds]),
        "accuracy": mean_std([s["accuracy"] for s in seeds]),
        "balanced_accuracy": mean_std([s["balanced_accuracy"] for s in seeds]),
        "per_task_f1": {t: mean_std([s["per_task_f1"][t] for s in seeds]) for t in tasks},
        "confusion_matrix": total_cm.astype(int).tolist(), "seeds": seeds,
        "seconds": time.perf_counter() - t0,
    }


def run_classification(req: RunRequest, spec: SuiteSpec, ranks: Any, log: common.Log) -> Any:
    cfg = probe_config(spec, req.probe, req.seeds, req.standardize)
    split = req.split or spec.probe.split
    suffix = "+listen-head" if isinstance(cfg, ListenHeadConfig) else ""
    p = common.prepare(req, spec, ranks, log, label_suffix=suffix, drop_duplicates=True)
    started = common.begin(p, {"probe": cfg.as_dict(), "split": split})
    if started.up_to_date or not ranks.is_main:
        return p.final if started.up_to_date else None
    run_key, partial, ext = started.run_key, started.partial, started.ext
    problems, t_probe = [], 0.0
    for problem in spec.problems:
        result = common.unit(partial, f"problem-{problem.name}",
                             lambda problem=problem: probe_unit(problem, ext.embeddings, p.clips, cfg, split, req.device),
                             log)
        t_probe += result.pop("seconds", 0.0)
        problems.append(result)
        log(f"{problem.name:>10}: macro-F1 {result['macro_f1']['mean']:.4f} ± {result['macro_f1']['std']:.4f}")
    results = common.header(p, "classification", run_key, ext, {
        "max_clips_per_class": req.max_clips_per_class, "duplicates_dropped": p.duplicates_dropped})
    results.update({
        "protocol": {"split": split, "probe": cfg.as_dict(), "frontend": common.extract_frontend(spec.audio),
                     "encoder_input": ext.policy, "seed_std": "population std over seeds (ddof 0)",
                     "macro_f1": "mean of per-class F1 over all classes of the problem"},
        "problems": problems,
        "summary": {"mean_macro_f1": float(np.mean([q["macro_f1"]["mean"] for q in problems]))},
        "timings": {"extract_s": ext.seconds, "probe_s": t_probe, "total_s": time.perf_counter() - p.t_start},
    })
    return common.finish(p, results)
