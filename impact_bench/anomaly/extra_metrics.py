"""Figures beside the official ones (never the official score): ASDKit's domain AUCs per section, and the
pooled, machine-agnostic evaluation of a set.

``sets.<set>.extra_metrics`` — per machine type and section ``metrics.domain_metrics`` (s_auc, s_pauc,
t_auc, t_pauc, mix_auc, mix_pauc, smix_auc, tmix_auc as ASDKit defines them); per machine type their
total over sections and per set the total over machine types, as ASDKit's tables aggregate
(``asdkit/utils/asdkit_utils/evaluate.py::mix_auc_and_section`` and ``asdkit/bin/table.py``: harmonic
mean for DCASE 2021+, arithmetic mean for 2020; we also use the arithmetic mean for MIMII / DINOS,
whose own summaries are arithmetic). Computed from the per-clip records (``perclip.record_clips``),
i.e. from exactly the scores in the submission files; 2021's per-domain files are joined per section.

``sets.<set>.pooled`` — arXiv 2602.16253 (Wilkinghoff, Imoto, Tan, "How much does machine identity
matter in anomalous sound detection at test time?"): the test clips of every machine type are merged
and scored without machine identity; training data and metrics are unchanged, machine identity is
used only afterwards, for evaluation. Here: one detector per domain over the training clips of every
machine type and section of the set (``scoring.score_pooled``), so every score has one scale and no
per-machine calibration question arises. Reported:

- ``auc`` / ``pauc`` (and the domain AUCs): one figure over all test clips of the set;
- ``rule_score``: the year's official aggregation (per machine type and section, then harmonic mean;
  2020 / MIMII / DINOS: mean of mean AUC and mean pAUC) applied to the pooled detector's scores — the
  paper's "metrics unchanged" view, comparable with the official score of the same run;
- ``machine_detectors``: AUC / pAUC over all test clips of the *official* (per-machine) detectors'
  scores as they are, unrescaled: what a single threshold over machines would face.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from impact_bench.anomaly import metrics as m
from impact_bench.anomaly.evaluator import TruthUnit
from impact_bench.anomaly.perclip import arrays, record_clips
from impact_bench.anomaly.submission import Unit

ASDKIT = ("TakuyaFujimura/dcase-asd-toolkit: asdkit/utils/dcase_utils/dcase_idx.py, "
          "asdkit/utils/asdkit_utils/evaluate.py")
POOLED = "arXiv 2602.16253: merged test clips, no machine identity at inference"


def _rule(layout: str, year: int | None) -> str:
    return "hmean" if layout == "dcase" and year is not None and year >= 2021 else "mean"


def _section(key: str) -> str:
    for dom in ("_source", "_target"):
        if key.endswith(dom):
            return key[: -len(dom)]
    return key


def by_section(clips: dict[str, dict[str, Any]]) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """machine → section → (labels, domains with −1 unknown, scores); 2021's per-domain units joined."""
    out: dict[str, dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]] = {}
    for machine, units in clips.items():
        for key, rec in units.items():
            out.setdefault(machine, {}).setdefault(_section(key), []).append(arrays(rec))
    return {mach: {sec: tuple(np.concatenate(p) for p in zip(*parts)) for sec, parts in secs.items()}  # type: ignore[misc]
            for mach, secs in out.items()}


def _total(rows: list[dict[str, float]], rule: str) -> dict[str, float]:
    keys = [k for k in m.DOMAIN_METRICS if rows and all(k in r for r in rows)]
    return {k: m.aggregate([r[k] for r in rows], rule) for k in keys}


def extra_block(clips: dict[str, dict[str, Any]], layout: str, year: int | None) -> dict[str, Any]:
    """ASDKit's domain metrics per section, machine type and set (``sets.<set>.extra_metrics``)."""
    rule = _rule(layout, year)
    machines: dict[str, Any] = {}
    for machine, sections in by_section(clips).items():
        rows = {sec: m.domain_metrics(y, d, s) for sec, (y, d, s) in sections.items()}
        machines[machine] = {"sections": rows, "total": _total(list(rows.values()), rule)}
    return {"official": False, "source": ASDKIT, "aggregate": rule, "machines": machines,
            "total": _total([e["total"] for e in machines.values()], rule)}


def rule_score(clips: dict[str, dict[str, Any]], layout: str, year: int | None) -> float:
    """The year's official aggregation applied to per-clip records (labels, domains, scores)."""
    if layout == "dcase" and year is not None and year >= 2022:
        return m.official_2022([m.section_2022(y, d, s) for secs in by_section(clips).values()
                                for y, d, s in secs.values()])
    units = {mach: [arrays(rec) for rec in recs.values()] for mach, recs in clips.items()}
    if layout == "dcase" and year == 2021:
        return m.official_2021([m.unit_scores(y, s) for parts in units.values() for y, _, s in parts])
    per_type = [[m.unit_scores(y, s) for y, _, s in parts] for parts in units.values()]  # 2020, MIMII, DINOS
    mean_auc = float(np.mean([np.mean([r["auc"] for r in rows]) for rows in per_type]))
    mean_pauc = float(np.mean([np.mean([r["pauc"] for r in rows]) for rows in per_type]))
    return (mean_auc + mean_pauc) / 2


def _all(clips: dict[str, dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts = [arrays(rec) for recs in clips.values() for rec in recs.values()]
    return tuple(np.concatenate(p) for p in zip(*parts))  # type: ignore[return-value]


def pooled_block(truths: list[TruthUnit], pooled: dict[Unit, tuple[list[str], np.ndarray, Any]],
                 official_clips: dict[str, dict[str, Any]], layout: str, year: int | None) -> dict[str, Any]:
    """``sets.<set>.pooled`` from the pooled detector's scores and the official per-clip records."""
    rec = record_clips(truths, pooled)
    y, d, s = _all(rec)
    out: dict[str, Any] = {"official": False, "source": POOLED, "machine_types": len(rec), "n_clips": int(len(y)),
                           "auc": m.auc(y, s, "pooled AUC"), "pauc": m.pauc(y, s, what="pooled pAUC")}
    out["domain_metrics"] = m.domain_metrics(y, d, s)
    out["rule_score"] = rule_score(rec, layout, year)
    y0, _, s0 = _all(official_clips)
    out["machine_detectors"] = {"auc": m.auc(y0, s0, "per-machine scores pooled"),
                                "pauc": m.pauc(y0, s0, what="per-machine scores pooled")}
    return out
