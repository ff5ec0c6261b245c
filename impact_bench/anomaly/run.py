"""``impact-bench run`` on an anomaly suite: embeddings → back end per unit → submission → metrics.

Order of work, which is what keeps evaluation labels out of every fit:
1. embed every clip (cached, windowed + mean-pooled);
2. per unit of detection fit the back end on that unit's *training* clips (normal by construction;
   asserted) and score its test clips — no test label is read;
3. decision threshold from the training clips' scores; write the official submission CSVs;
4. only then read labels — dev: from the file names; eval: from the official ground truth
   (``--ground-truth DIR``) — and score the written files with the evaluator (``evaluator.py``), so
   our numbers are the ones the official evaluators give for the same files.
"""
from __future__ import annotations

import shutil
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np

from impact_bench.anomaly import metrics as m
from impact_bench.anomaly.backends import BackendConfig, score_section
from impact_bench.anomaly.dataset import AsdClip, AsdIndex, scan_dcase, scan_dinos_anomaly, scan_mimii
from impact_bench.anomaly.evaluator import TruthUnit, read_ground_truth, score_submission
from impact_bench.anomaly.submission import Unit, write_submission
from impact_bench.anomaly.supervised import probe_config, score_supervised
from impact_bench.cache import canonical_hash, default_cache_root
from impact_bench.distributed import Ranks
from impact_bench.encoders.catalog import build_encoder, resolve_factory
from impact_bench.encoders.protocol import describe
from impact_bench.errors import DataError
from impact_bench.extract import data_fingerprint, extract, frontend, hash_clips
from impact_bench.results import SCHEMA_VERSION, provenance, write_json
from impact_bench.suites.spec import AnomalySuiteSpec

def load_index(spec: AnomalySuiteSpec, root: Path, machines: tuple[str, ...] = ()) -> AsdIndex:
    d, sets = spec.data, spec.protocol.sets
    if d.layout == "dcase":
        return scan_dcase(root, int(d.year), sets, d.machines, machines)
    if d.layout == "mimii":
        return scan_mimii(root, sets, machines)
    return scan_dinos_anomaly(root)


def backend_config(spec: AnomalySuiteSpec, overrides: dict[str, Any]) -> BackendConfig:
    fields = spec.protocol.backend.model_dump()
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise DataError(f"unknown back-end option(s) {unknown}; expected {sorted(fields)}")
    return BackendConfig(**{**fields, **overrides})


def _bank(clips: list[AsdClip], idx: list[int], what: str) -> None:
    """The fit sees training clips only, and they are normal: the no-leakage guard."""
    bad = [clips[i].relpath for i in idx if clips[i].split != "train" or clips[i].label != "normal"]
    if bad:
        raise AssertionError(f"{what}: non-training or non-normal clips in a training bank: {bad[:3]}")


def score_set(spec: AnomalySuiteSpec, cfg: BackendConfig, clips: list[AsdClip], x: np.ndarray,
              set_name: str) -> dict[Unit, tuple[list[str], np.ndarray, np.ndarray]]:
    """Per unit of ``set_name``: (test file names, anomaly scores, 0/1 decisions). Labels unused."""
    p, year = spec.protocol, spec.data.year
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, c in enumerate(clips):
        if c.set == set_name:
            groups[(c.machine, c.unit)].append(i)
    units: dict[Unit, tuple[list[str], np.ndarray, np.ndarray]] = {}
    for (machine, unit), members in sorted(groups.items()):
        what = f"{set_name}/{machine}/{unit}"
        train = [i for i in members if clips[i].split == "train"]
        test = [i for i in members if clips[i].split == "test"]
        if not train or not test:
            raise DataError(f"{what}: needs training and test clips (found {len(train)} and {len(test)})")
        _bank(clips, train, what)
        domain = None
        if p.domains == "min":
            domain = np.array([clips[i].domain == "target" for i in train], dtype=int)
            for d, name in ((0, "source"), (1, "target")):
                if not (domain == d).any():
                    raise DataError(f"{what}: no {name}-domain training clips; the source/target min rule needs "
                                    f"both (suite protocol.domains: pooled scores with one detector)")
        s_test, s_train = score_section(cfg, x[train], x[test], domain, what)
        thr = (m.gamma_threshold if p.threshold == "gamma" else m.percentile_threshold)(s_train, p.threshold_q)
        decisions = (s_test > thr).astype(int)
        names = [clips[i].name for i in test]
        if year == 2021:  # one detector per section, files per (section, domain)
            for dom in ("source", "target"):
                sel = [k for k, i in enumerate(test) if clips[i].domain == dom]
                if not sel:
                    raise DataError(f"{what}: no {dom}_test clips (2021 scores each domain's test folder)")
                units[Unit(machine, unit, dom)] = ([names[k] for k in sel], s_test[sel], decisions[sel])
        else:
            units[Unit(machine, unit)] = (names, s_test, decisions)
    return units


def truths_from_names(clips: list[AsdClip], set_name: str, year: int | None) -> list[TruthUnit]:
    """Dev-set ground truth in the evaluator's form, from the file names (labels are public there)."""
    out: dict[Unit, TruthUnit] = {}
    for c in clips:
        if c.set != set_name or c.split != "test":
            continue
        if c.label is None:
            raise DataError(f"{c.relpath}: the label is hidden in the name; eval sets need --ground-truth")
        unit = Unit(c.machine, c.unit, c.domain if year == 2021 else None)
        t = out.setdefault(unit, TruthUnit(unit, {}))
        t.labels[c.name] = int(c.label == "anomaly")
        if c.domain is not None:
            t.domains[c.name] = int(c.domain == "target")
    return list(out.values())


def _metrics(spec: AnomalySuiteSpec, truths: list[TruthUnit], folder: Path,
             units: dict[Unit, tuple[list[str], np.ndarray, np.ndarray]]) -> dict[str, Any]:
    year = spec.data.year
    if spec.data.layout == "dcase":
        wanted = {(u.machine, u.section, u.domain) for u in units}
        have = [t for t in truths if (t.unit.machine, t.unit.section, t.unit.domain) in wanted]
        lost = wanted - {(t.unit.machine, t.unit.section, t.unit.domain) for t in have}
        if lost:
            raise DataError(f"the ground truth has no entries for {sorted(lost)[:3]}")
        res = score_submission(int(year), have, folder)
    else:  # MIMII / DINOS: AUC, pAUC per unit (+ best-F1 for DINOS); arithmetic means per machine
        res = {"machines": {}}
        for t in truths:
            names, scores, decisions = units[t.unit]
            y = np.array([t.labels[n] for n in names])
            row = m.unit_scores(y, scores, decisions, f"{t.unit.machine}/{t.unit.section}")
            if spec.data.layout == "dinos-anomaly":
                row["best_f1"] = m.best_f1(y, scores)
            res["machines"].setdefault(t.unit.machine, {"sections": {}})["sections"][t.unit.section] = row
        for entry in res["machines"].values():
            rows = list(entry["sections"].values())
            entry["mean"] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        res["official_score"] = None
        res["mean_auc"] = float(np.mean([e["mean"]["auc"] for e in res["machines"].values()]))
        res["mean_pauc"] = float(np.mean([e["mean"]["pauc"] for e in res["machines"].values()]))
    roc: dict[str, dict[str, Any]] = {}
    for t in truths:
        if t.unit in units:
            names, scores, _ = units[t.unit]
            y = np.array([t.labels[n] for n in names])
            if len(set(y.tolist())) == 2:
                key = t.unit.section + (f"_{t.unit.domain}" if t.unit.domain else "")
                roc.setdefault(t.unit.machine, {})[key] = m.roc_points(y, scores)
    res["roc"] = roc
    return res


def _headline(res: dict[str, Any]) -> float | None:
    if res.get("official_score") is not None:
        return res["official_score"]
    if "mean_f1" in res:  # MIMII protocol (b): mean F1 of the abnormal class over machine types
        return res["mean_f1"]
    if "mean_auc" in res:
        return float(np.mean([res["mean_auc"], res["mean_pauc"]]))  # RMIS DCASE20 summary: mean(AUC, pAUC)
    return None


def _score_unsupervised(spec: AnomalySuiteSpec, cfg: BackendConfig, clips: list[AsdClip], x: np.ndarray,
                        final: Path, gt: Path | None, toy2022: str, run_key: str, label: str,
                        log: Callable[[str], None]) -> tuple[dict[str, Any], Path]:
    """Back end per unit → submission folder (written atomically) → labels → official metrics."""
    sub_root = final.parent / f"{final.stem}.submission"
    staging = final.parent / f".{final.stem}.submission.partial"
    shutil.rmtree(staging, ignore_errors=True)
    sets: dict[str, Any] = {}
    year = spec.data.year if spec.data.layout == "dcase" else 2020  # MIMII/DINOS files: per-ID naming
    for set_name in dict.fromkeys(c.set for c in clips):
        units = score_set(spec, cfg, clips, x, set_name)
        folder = write_submission(staging / set_name, year, units)
        entry: dict[str, Any] = {"submission": f"{sub_root.name}/{set_name}"}
        hidden = any(c.label is None for c in clips if c.set == set_name and c.split == "test")
        if not hidden:
            truths, entry["labels_from"] = truths_from_names(clips, set_name, spec.data.year), "file names"
        elif gt is not None:
            truths, entry["labels_from"] = read_ground_truth(int(spec.data.year), gt, toy2022), str(gt)
        else:
            truths = None
            entry.update(scored=False, reason="labels hidden; pass --ground-truth DIR (the official evaluator's "
                                              "folders) to score this set")
        if truths is not None:
            entry.update(scored=True, **_metrics(spec, truths, folder, units))
            head = _headline(entry)
            log(f"{set_name:>8}: " + (f"score {head:.4f}" if head is not None else "scored"))
        else:
            log(f"{set_name:>8}: scores written, not evaluated ({entry['reason']})")
        sets[set_name] = entry
    write_json(staging / "run.json", {"run_fingerprint": run_key, "suite": spec.name, "encoder": label})
    if sub_root.exists():
        shutil.rmtree(sub_root)
    staging.replace(sub_root)
    return sets, sub_root


def run_anomaly(req: Any, spec: AnomalySuiteSpec, ranks: Ranks, log: Callable[[str], None]) -> Path | None:
    from impact_bench.runner import check_existing, resolve_data_root, results_path
    t_start = time.perf_counter()
    factory = resolve_factory(req.encoder, req.autoload_plugins)
    root = resolve_data_root(spec, req.data_root)
    cfg = backend_config(spec, req.backend)
    gt = req.ground_truth
    if gt is None and spec.synthetic and (Path(root) / "ground_truth").is_dir():
        gt = Path(root) / "ground_truth"  # the synthetic generator writes the eval ground truth there
    index = load_index(spec, root, tuple(req.machines))
    for note in index.notices:
        log(f"note: {note}")
    encoder = build_encoder(req.encoder, checkpoint=req.checkpoint, device=str(ranks.device),
                            options=req.encoder_options, factory=factory)
    label = req.label or (encoder.name if ":" in req.encoder else req.encoder)
    final = results_path(req.out, spec.name, label, index.subset)
    clips = index.clips
    hashes = hash_clips(clips, req.progress and ranks.is_main)
    fingerprint = data_fingerprint(clips, hashes)
    run_key = canonical_hash({"suite": [spec.name, spec.version], "data": fingerprint, "encoder": describe(encoder),
                              "backend": cfg.as_dict(), "protocol": spec.protocol.model_dump(),
                              "frontend": frontend(spec.audio), "ground_truth": str(gt), "toy2022": req.toy2022,
                              "standardize": req.standardize, "schema": SCHEMA_VERSION})
    if check_existing(final, run_key, req.overwrite, log):
        return final
    cache_root = (req.cache_dir or default_cache_root() / "embeddings") if req.use_cache else None
    ext = extract(encoder, clips, spec.audio, cache_root, req.batch_size, req.progress and ranks.is_main, hashes, ranks)
    if not ranks.is_main:
        return None
    log(f"embeddings: {ext.computed} computed, {ext.cached} from cache ({ext.seconds:.1f} s)")
    t_score = time.perf_counter()
    sub_root: Path | None = None
    supervised = spec.protocol.scheme == "supervised"
    if supervised:
        sets = score_supervised(clips, ext.embeddings, spec.protocol.supervised, str(ranks.device),
                                req.standardize)
        for set_name, entry in sets.items():
            log(f"{set_name:>8}: mean F1 {entry['mean_f1']:.4f}, mean AUC {entry['mean_auc']:.4f} (probe, protocol b)")
    else:
        sets, sub_root = _score_unsupervised(spec, cfg, clips, ext.embeddings, final, gt, req.toy2022, run_key,
                                             label, log)
    results = {
        "schema_version": SCHEMA_VERSION, "kind": "anomaly", "status": "complete", "run_fingerprint": run_key,
        "encoder": {**describe(encoder), "label": label},
        "suite": {"name": spec.name, "version": spec.version, "title": spec.title, "synthetic": spec.synthetic,
                  "comparable_to": spec.comparable_to, "source_file": Path(spec.source_file).name,
                  "layout": spec.data.layout, "year": spec.data.year, "data_root": str(index.root),
                  "data_fingerprint": fingerprint, "subset": index.subset, "machines": list(req.machines),
                  "supplemental": index.supplemental, "notices": index.notices + ext.notices},
        "protocol": {"year": spec.data.year, "scheme": spec.protocol.scheme,
                     "backend": None if supervised else cfg.as_dict(),
                     "transductive": False if supervised else cfg.transductive,
                     "probe": probe_config(spec.protocol.supervised, req.standardize).as_dict() if supervised else None,
                     "youden_from": spec.protocol.supervised.youden_from if supervised else None,
                     "domains": spec.protocol.domains, "threshold": spec.protocol.threshold,
                     "threshold_q": spec.protocol.threshold_q, "frontend": frontend(spec.audio),
                     "encoder_input": ext.policy, "toy2022": req.toy2022 if spec.data.year == 2022 else None,
                     "ground_truth": None if gt is None else str(gt)},
        "sets": sets,
        "summary": {k: _headline(v) if v.get("scored") else None for k, v in sets.items()},
        "extraction": {"computed": ext.computed, "cached": ext.cached, "cache_key": ext.policy["cache_key"],
                       "batch_size": req.batch_size, "ranks": ranks.world, "windows_per_clip": ext.windows,
                       "native_sample_rates": ext.native_rates, "channels": ext.channels},
        "timings": {"extract_s": ext.seconds, "score_s": time.perf_counter() - t_score,
                    "total_s": time.perf_counter() - t_start},
        "provenance": provenance(req.device),
    }
    write_json(final, results)
    log(f"wrote {final}" + (f" and {sub_root}/" if sub_root else "") + (" [SYNTHETIC data]" if spec.synthetic else "")
        + (" [SUBSET]" if index.subset else "") + (" [TRANSDUCTIVE normalisation]" if cfg.transductive else ""))
    return final

