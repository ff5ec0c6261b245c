"""``impact-bench run``: one encoder on one classification suite, resumable.

Units of work: the embeddings (cached per clip) and one probe unit per problem (all seeds),
each written atomically into ``<out>/.<suite>__<encoder>.partial/``. The results file appears
only when every unit is done. Re-running the same command resumes; re-running a finished one
reports it up to date; a different configuration over an existing results file needs
``--overwrite``.

Under ``torchrun`` (``torchrun --nproc_per_node N -m impact_bench.cli run …``) the ranks share
the embedding work through the cache (see ``extract``); only rank 0 probes and writes files.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from impact_bench import distributed
from impact_bench.cache import canonical_hash, default_cache_root
from impact_bench.encoders.catalog import build_encoder, resolve_factory
from impact_bench.encoders.protocol import describe
from impact_bench.errors import DataError, ResultsError
from impact_bench.extract import data_fingerprint, dedupe, extract, hash_clips
from impact_bench.extract import frontend as extract_frontend
from impact_bench.metrics import mean_std, scores
from impact_bench.probe import ProbeConfig, run_probe
from impact_bench.results import SCHEMA_VERSION, provenance, write_json
from impact_bench.suites import dinos, listen
from impact_bench.suites.catalog import get_suite
from impact_bench.anomaly.dataset import looks_like
from impact_bench.suites.spec import AnomalySuiteSpec, AnySuite, SuiteSpec
from impact_bench.listen_head import ListenHeadConfig, run_listen_probe


@dataclass
class RunRequest:
    encoder: str
    suite: str
    out: Path = Path("results")
    data_root: Path | None = None
    checkpoint: str | None = None
    encoder_options: dict[str, Any] = field(default_factory=dict)
    seeds: int | None = None
    max_clips_per_class: int | None = None
    split: str | None = None  # "paper": pool train+test and re-split; "official": as given; None: the suite's
    probe: str | None = None  # probe head: "paper" | "listen"; None: the suite's
    standardize: bool = False
    class_map: Path | None = None
    device: str = "cpu"
    batch_size: int = 32
    cache_dir: Path | None = None
    use_cache: bool = True
    overwrite: bool = False
    autoload_plugins: bool = True
    progress: bool = True
    tasks_dirs: tuple[str, ...] = ()
    label: str | None = None  # run name in file names and leaderboards (default: the encoder's name)
    # anomaly suites only
    ground_truth: Path | None = None      # official evaluator folder of the eval set
    backend: dict[str, Any] = field(default_factory=dict)  # overrides of the suite's back end
    toy2022: str = "evaluator"
    machines: tuple[str, ...] = ()       # score only these machine types (results marked as a subset)


def _has_data(spec: AnySuite, root: Path) -> bool:
    if isinstance(spec, AnomalySuiteSpec):
        return looks_like(spec.data.layout, root)
    try:
        (listen if spec.data.layout == "listen-release" else dinos).find_release_root(root)
        return True
    except DataError:
        return False


def resolve_data_root(spec: AnySuite, given: Path | None) -> Path:
    """The dataset folder, or a DataError saying where we looked and where to get the data."""
    looked: list[str] = []
    candidates: list[Path] = []
    if given is not None:
        candidates.append(Path(given))
        looked.append(f"--data-root {given}")
    elif os.environ.get(spec.data.env_var):
        candidates.append(Path(os.environ[spec.data.env_var]))
        looked.append(f"${spec.data.env_var}={os.environ[spec.data.env_var]}")
    else:
        default = default_cache_root() / "data" / spec.name
        candidates.append(default)
        looked.append(f"{default} (default; set --data-root or ${spec.data.env_var})")
    for cand in candidates:
        if cand.is_dir() and _has_data(spec, cand):
            return cand
    lines = [f"suite {spec.name!r}: no data found. Looked in: " + "; ".join(looked) + "."]
    if spec.data.generator:
        lines.append(f"Write it with: impact-bench data synth --suite {spec.name} --out DIR, then --data-root DIR.")
    elif isinstance(spec, AnomalySuiteSpec):
        lines.append("The data is published at " + " and ".join(spec.data.published_at) + "; unpack it as "
                     "docs/anomaly.md describes and pass --data-root DIR.")
    elif spec.data.layout == "listen-release":
        lines.append("The recordings are published at " + " and ".join(spec.data.published_at) + "; pass "
                     "--data-root CLONE (the folder holding Datasets/Onsite_Train/train_list.csv).")
    else:
        lines.append("DINOS is published at " + " and ".join(spec.data.published_at) + ".")
        lines.append("Download it, then pass --data-root DIR (the folder holding DINOS_Downstreams_train/test).")
        lines.append("To run offline without the real data: --suite dinos-synth.")
    raise DataError("\n".join(lines))


def results_path(out: Path, suite: str, encoder: str, subset: bool) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", encoder).strip("-")
    return Path(out) / f"{suite}__{slug}{'__subset' if subset else ''}.json"


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


def _probe_unit(problem, x: np.ndarray, clips, cfg: ProbeConfig | ListenHeadConfig, split: str,
                device: str) -> dict[str, Any]:
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
        sc = scores(o.confusion)
        seeds.append({"seed": o.seed, "macro_f1": sc["macro_f1"], "accuracy": sc["accuracy"],
                      "balanced_accuracy": sc["balanced_accuracy"],
                      "per_task_f1": dict(zip(tasks, sc["per_class_f1"])), "epochs": o.epochs,
                      "final_train_loss": o.final_train_loss, "n_train": len(o.train_idx), "n_test": len(o.test_idx)})
    total_cm = sum(o.confusion for o in outcomes)
    return {
        "name": problem.name, "machine": problem.machine, "tasks": tasks, "n_clips": len(rows),
        "macro_f1": mean_std([s["macro_f1"] for s in seeds]),
        "accuracy": mean_std([s["accuracy"] for s in seeds]),
        "balanced_accuracy": mean_std([s["balanced_accuracy"] for s in seeds]),
        "per_task_f1": {t: mean_std([s["per_task_f1"][t] for s in seeds]) for t in tasks},
        "confusion_matrix": total_cm.astype(int).tolist(), "seeds": seeds,
        "seconds": time.perf_counter() - t0,
    }


def _silent(_message: str) -> None:
    pass


def check_existing(final: Path, run_key: str, overwrite: bool, log: Callable[[str], None]) -> bool:
    """True when ``final`` already holds this very run; an error when it holds another one."""
    if not final.exists():
        return False
    try:
        old = json.loads(final.read_text())
    except (OSError, json.JSONDecodeError):
        old = {}
    if old.get("run_fingerprint") == run_key and not overwrite:
        log(f"up to date: {final} (same data, encoder and protocol); --overwrite recomputes it")
        return True
    if not overwrite:
        raise ResultsError(f"{final} exists and holds a different run; pass --overwrite to replace it, "
                           f"or --out to write elsewhere")
    return False


def run(req: RunRequest, log: Callable[[str], None] = print) -> Path | None:
    """Path of the results file (None on the helper ranks of a torchrun extraction)."""
    t_start = time.perf_counter()
    ranks = distributed.setup(req.device)
    if not ranks.is_main:
        log = _silent
    spec = get_suite(req.suite, req.tasks_dirs)
    if isinstance(spec, AnomalySuiteSpec):
        from impact_bench.anomaly.run import run_anomaly
        return run_anomaly(req, spec, ranks, log)
    factory = resolve_factory(req.encoder, req.autoload_plugins)  # a mistyped name fails here, with suggestions
    root = resolve_data_root(spec, req.data_root)  # fail fast, before any model is built
    if spec.data.layout == "listen-release":
        if req.class_map is not None:
            raise DataError(f"--class-map does not apply to suite {spec.name}: its classes come from train_list.csv")
        index = listen.scan(root, spec, req.max_clips_per_class)
    else:
        index = dinos.scan(root, spec, req.class_map, req.max_clips_per_class)
    for note in index.notices:
        log(f"note: {note}")
    encoder = build_encoder(req.encoder, checkpoint=req.checkpoint, device=str(ranks.device),
                            options=req.encoder_options, factory=factory)
    split = req.split or spec.probe.split
    cfg = probe_config(spec, req.probe, req.seeds, req.standardize)
    label = req.label or (encoder.name if ":" in req.encoder else req.encoder)
    if isinstance(cfg, ListenHeadConfig) and req.label is None:
        label += "+listen-head"
    final = results_path(req.out, spec.name, label, index.subset)
    partial = final.parent / f".{final.stem}.partial"

    progress = req.progress and ranks.is_main
    hashes = hash_clips(index.clips, progress)
    keep, dup_notes = dedupe(index.clips, hashes)
    clips = [index.clips[i] for i in keep]
    hashes = [hashes[i] for i in keep]
    for note in dup_notes[:5]:
        log(f"note: {note}")
    fingerprint = data_fingerprint(clips, hashes)
    frontend = extract_frontend(spec.audio)
    run_key = canonical_hash({"suite": [spec.name, spec.version], "data": fingerprint, "encoder": describe(encoder),
                              "probe": cfg.as_dict(), "split": split, "frontend": frontend,
                              "schema": SCHEMA_VERSION})
    if check_existing(final, run_key, req.overwrite, log):
        return final
    state = partial / "run.json"
    if partial.exists():
        try:
            same = json.loads(state.read_text()).get("run_fingerprint") == run_key
        except (OSError, json.JSONDecodeError):
            same = False
        if not same:
            log(f"note: discarding unfinished work of a different configuration in {partial}")
            shutil.rmtree(partial)
        else:
            log(f"resuming from {partial}")
    if ranks.is_main:
        partial.mkdir(parents=True, exist_ok=True)
        write_json(state, {"run_fingerprint": run_key})

    cache_root = (req.cache_dir or default_cache_root() / "embeddings") if req.use_cache else None
    ext = extract(encoder, clips, spec.audio, cache_root, req.batch_size, progress, hashes, ranks)
    if not ranks.is_main:
        return None
    log(f"embeddings: {ext.computed} computed, {ext.cached} from cache ({ext.seconds:.1f} s)")
    problems, t_probe = [], 0.0
    for problem in spec.problems:
        unit = partial / f"problem-{problem.name}.json"
        if unit.exists():
            result = json.loads(unit.read_text())
        else:
            result = _probe_unit(problem, ext.embeddings, clips, cfg, split, req.device)
            write_json(unit, result)
        t_probe += result.pop("seconds", 0.0)
        problems.append(result)
        log(f"{problem.name:>10}: macro-F1 {result['macro_f1']['mean']:.4f} ± {result['macro_f1']['std']:.4f}")
    results = {
        "schema_version": SCHEMA_VERSION, "kind": "classification", "status": "complete", "run_fingerprint": run_key,
        "encoder": {**describe(encoder), "label": label},
        "suite": {"name": spec.name, "version": spec.version, "title": spec.title, "synthetic": spec.synthetic,
                  "comparable_to": spec.comparable_to, "source_file": Path(spec.source_file).name,
                  "data_root": str(index.root), "data_fingerprint": fingerprint, "subset": index.subset,
                  "max_clips_per_class": req.max_clips_per_class,
                  "duplicates_dropped": len(index.clips) - len(clips), "notices": index.notices + ext.notices},
        "protocol": {"split": split, "probe": cfg.as_dict(), "frontend": frontend, "encoder_input": ext.policy,
                     "seed_std": "population std over seeds (ddof 0)",
                     "macro_f1": "mean of per-class F1 over all classes of the problem"},
        "problems": problems,
        "summary": {"mean_macro_f1": float(np.mean([p["macro_f1"]["mean"] for p in problems]))},
        "extraction": {"computed": ext.computed, "cached": ext.cached, "cache_key": ext.policy["cache_key"],
                       "batch_size": req.batch_size, "ranks": ranks.world,
                       # of the clips rank 0 decoded in this run (cache hits are not decoded):
                       "native_sample_rates": ext.native_rates, "channels": ext.channels},
        "timings": {"extract_s": ext.seconds, "probe_s": t_probe, "total_s": time.perf_counter() - t_start},
        "provenance": provenance(req.device),
    }
    write_json(final, results)
    shutil.rmtree(partial, ignore_errors=True)
    log(f"wrote {final}" + (" [SYNTHETIC data]" if spec.synthetic else "") + (" [SUBSET]" if index.subset else ""))
    return final
