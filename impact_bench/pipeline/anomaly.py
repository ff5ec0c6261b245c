"""Anomaly suites (DCASE 2020–2025, MIMII, DINOS anomaly; MIMII protocol (b)): embeddings → one unit
per set (back end per unit of detection → submission CSVs → official metrics; or the supervised probe).

Finished sets are kept in the partial folder (their entry and, for the unsupervised protocol, their
submission files), so an interrupted run resumes set by set, as classification runs resume problem by
problem. When every set is done, the results file and the submission folder are moved into place as one
unit (``common.finish_with_folder``; a killed move is completed by the next run).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from impact_bench.anomaly import supplementary as sx
from impact_bench.anomaly.backends import SCREENS
from impact_bench.anomaly.evaluator import read_ground_truth
from impact_bench.anomaly.extra_metrics import extra_block, pooled_block
from impact_bench.anomaly.knn import screen_record
from impact_bench.anomaly.perclip import add_delong_cis, record_clips
from impact_bench.anomaly.scoring import (backend_config, score_pooled, score_set, set_headline, set_metrics,
                                          truths_from_names)
from impact_bench.anomaly.submission import write_submission
from impact_bench.anomaly.supervised import probe_config, score_supervised
from impact_bench.extract import data_fingerprint, hash_clips
from impact_bench.pipeline import common, select_backend
from impact_bench.pipeline.options import RunRequest
from impact_bench.suites.spec import AnomalySuiteSpec


def _unsupervised_set(spec: AnomalySuiteSpec, cfg: Any, clips: list[Any], x: np.ndarray, set_name: str,
                      staging: Path, sub_name: str, gt: Path | None, toy2022: str,
                      supplementary: str = "ignore") -> dict[str, Any]:
    year = spec.data.year if spec.data.layout == "dcase" else 2020  # MIMII/DINOS files: per-ID naming
    used: dict[str, Any] = {}
    units = score_set(spec, cfg, clips, x, set_name, supplementary, used)
    folder = write_submission(staging / set_name, year, units)
    entry: dict[str, Any] = {"submission": f"{sub_name}/{set_name}"}
    if supplementary != "ignore":
        entry["supplementary"] = {"mode": supplementary, "units": used}
    hidden = any(c.label is None for c in clips if c.set == set_name and c.split == "test")
    if not hidden:
        truths, entry["labels_from"] = truths_from_names(clips, set_name, spec.data.year), "file names"
    elif gt is not None:
        truths, entry["labels_from"] = read_ground_truth(int(spec.data.year), gt, toy2022), str(gt)
    else:
        truths = None
        entry.update(scored=False, reason="labels hidden; pass --ground-truth DIR (the official evaluator's "
                                          "folders) to score this set")
    if truths is not None:  # labels are read only now: the scores and the submission files are fixed
        res = set_metrics(spec, truths, folder, units)
        res.pop("submission", None)  # the evaluator's staging path; the entry names the final folder
        res["clips"] = record_clips(truths, units)
        add_delong_cis(res, res["clips"], spec.data.layout, spec.data.year)
        # beside the official figures, never the official score (extra_metrics.py)
        res["extra_metrics"] = extra_block(res["clips"], spec.data.layout, spec.data.year)
        pooled = score_pooled(spec, cfg, clips, x, set_name, supplementary)
        res["pooled"] = pooled_block(truths, pooled, res["clips"], spec.data.layout, spec.data.year)
        entry.update(scored=True, **res)
    return entry


def run_anomaly(req: RunRequest, spec: AnomalySuiteSpec, ranks: Any, log: common.Log) -> Path | None:
    supervised = spec.protocol.scheme == "supervised"
    cfg = None if supervised else backend_config(spec, select_backend.selected_backend(req, spec))  # --backend-from
    sup = spec.protocol.supervised
    if supervised and req.seeds is not None:
        sup = sup.model_copy(update={"seeds": req.seeds})
    toy2022 = req.toy2022 or "evaluator"
    supplementary = req.supplementary or "ignore"
    # a run using extra data gets its own results file: <suite>__<encoder>+supp-<mode>.json
    p = common.prepare(req, spec, ranks, log, label_suffix="" if supplementary == "ignore" else f"+supp-{supplementary}")
    if supplementary != "ignore":  # the supplemental clips are embedded with the rest (and enter the run key)
        extra = sx.scan(p.clips, Path(p.index.root))
        counts = sx.require(supplementary, extra, spec.name)
        p.clips += extra
        p.hashes += hash_clips(extra, req.progress and ranks.is_main)
        p.fingerprint = data_fingerprint(p.clips, p.hashes)
        log(f"supplementary ({supplementary}): {counts['machine']} clean machine and {counts['noise']} noise-only "
            f"recordings")
    gt = req.ground_truth
    if gt is None and spec.synthetic and (Path(p.index.root) / "ground_truth").is_dir():
        gt = Path(p.index.root) / "ground_truth"  # the synthetic generator writes the eval ground truth there
    scoring = ({"probe": probe_config(sup, req.standardize).as_dict(), "youden_from": sup.youden_from}
               if supervised else {"backend": cfg.as_dict(), "ground_truth": str(gt), "toy2022": toy2022})
    if supplementary != "ignore":  # absent by default: earlier runs keep their run keys
        scoring["supplementary"] = supplementary
    started = common.begin(p, {"protocol": spec.protocol.model_dump(), "scoring": scoring,
                               "standardize": req.standardize})
    if started.up_to_date or not ranks.is_main:
        return p.final if started.up_to_date else None
    run_key, partial, ext = started.run_key, started.partial, started.ext
    t_score = time.perf_counter()
    sub_root = p.final.parent / f"{p.final.stem}.submission"
    staging = partial / "submission"
    sets: dict[str, Any] = {}
    for set_name in dict.fromkeys(c.set for c in p.clips):
        if supervised:
            idx = [i for i, c in enumerate(p.clips) if c.set == set_name]
            compute = (lambda idx=idx, s=set_name: score_supervised(
                [p.clips[i] for i in idx], ext.embeddings[idx], sup, str(ranks.device), req.standardize)[s])
        else:
            compute = (lambda s=set_name: _unsupervised_set(spec, cfg, p.clips, ext.embeddings, s, staging,
                                                            sub_root.name, gt, toy2022, supplementary))
        entry = common.unit(partial, f"set-{set_name}", compute)
        sets[set_name] = entry
        head = set_headline(entry) if entry.get("scored") else None
        if supervised:
            log(f"{set_name:>8}: mean F1 {entry['mean_f1']:.4f}, mean AUC {entry['mean_auc']:.4f} (probe, protocol b)")
        else:
            log(f"{set_name:>8}: " + (f"score {head:.4f}" if head is not None else
                                      "scored" if entry.get("scored") else
                                      f"scores written, not evaluated ({entry.get('reason')})"))
    summary: dict[str, Any] = {k: set_headline(v) if v.get("scored") else None for k, v in sets.items()}
    scored = [v for v in summary.values() if v is not None]
    summary["mean"] = float(np.mean(scored)) if scored else None
    results = common.header(p, "anomaly", run_key, ext, {
        "layout": spec.data.layout, "year": spec.data.year, "machines": list(req.machines),
        "supplemental": p.index.supplemental})
    results["extraction"]["windows_per_clip"] = ext.windows
    results.update({
        "protocol": {"year": spec.data.year, "scheme": spec.protocol.scheme,
                     "backend": None if supervised else cfg.as_dict(),
                     "transductive": False if supervised else cfg.transductive,
                     "knn_search": None if supervised else screen_record(SCREENS[cfg.screen], cfg.metric),
                     "probe": scoring.get("probe"), "youden_from": sup.youden_from if supervised else None,
                     "domains": spec.protocol.domains, "threshold": spec.protocol.threshold,
                     "threshold_q": spec.protocol.threshold_q, "frontend": common.extract_frontend(spec.audio),
                     "encoder_input": ext.policy, "toy2022": toy2022 if spec.data.year == 2022 else None,
                     "ground_truth": None if gt is None else str(gt),
                     "supplementary": supplementary,  # "ignore" | "bank" | "noise-norm" (extra data used)
                     "first_shot": select_backend.first_shot_stamp(req, spec, p, cfg)},
        "sets": sets,
        "summary": summary,
        "timings": {"extract_s": ext.seconds, "score_s": time.perf_counter() - t_score,
                    "total_s": time.perf_counter() - p.t_start},
    })
    note = "" if supervised else f" and {sub_root}/"
    if cfg is not None and cfg.transductive:
        note += " [TRANSDUCTIVE normalisation]"
    if supplementary != "ignore":
        note += f" [supplementary data: {supplementary}]"
    if supervised:
        return common.finish(p, results, note)
    return common.finish_with_folder(p, results, staging, sub_root, note)  # results + folder swapped as one unit
