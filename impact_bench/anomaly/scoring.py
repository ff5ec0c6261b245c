"""Scoring of the unsupervised anomaly protocol, unit by unit; no run orchestration here.

Order of work, which keeps evaluation labels out of every fit: per unit of detection the back end
is fitted on that unit's *training* clips (normal by construction; checked) and scores its test
clips — no test label is read; the decision threshold comes from the training clips' scores. Only
after the submission files are written are labels read — dev: from the file names; eval: from the
official ground truth — and the written files scored with the evaluator (``evaluator.py``), so the
numbers are the ones the official evaluators give for the same files.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from impact_bench.anomaly import metrics as m
from impact_bench.anomaly import supplementary as sx
from impact_bench.anomaly.backends import BackendConfig, score_section
from impact_bench.anomaly.dataset import AsdClip
from impact_bench.anomaly.evaluator import TruthUnit, score_submission
from impact_bench.anomaly.submission import Unit
from impact_bench.errors import DataError
from impact_bench.suites.spec import AnomalySuiteSpec


def backend_config(spec: AnomalySuiteSpec, overrides: dict[str, Any]) -> BackendConfig:
    fields = spec.protocol.backend.model_dump()
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise DataError(f"unknown back-end option(s) {unknown}; expected {sorted(fields)}")
    return BackendConfig(**{**fields, **overrides})


def check_bank(clips: list[AsdClip], idx: list[int], what: str) -> None:
    """The fit sees training clips only, and they are normal: the no-leakage guard."""
    bad = [clips[i].relpath for i in idx if clips[i].split != "train" or clips[i].label != "normal"]
    if bad:
        raise AssertionError(f"{what}: non-training or non-normal clips in a training bank: {bad[:3]}")


def _score_members(spec: AnomalySuiteSpec, cfg: BackendConfig, clips: list[AsdClip], x: np.ndarray,
                   train: list[int], test: list[int], supp: list[int], supplementary: str, what: str
                   ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(test scores, training-clip scores, what the supplementary mode used) of one detector problem."""
    check_bank(clips, train, what)
    bank = list(train)
    used: dict[str, Any] = {}
    if supplementary == "bank":
        extra = sx.bank_clips(clips, supp)
        bank += extra
        used["clean_in_bank"] = len(extra)
    domain = None
    if spec.protocol.domains == "min":
        domain = np.array([clips[i].domain == "target" for i in bank], dtype=int)  # clean clips: source unless named
        for d, name in ((0, "source"), (1, "target")):
            if not (domain[:len(train)] == d).any():
                raise DataError(f"{what}: no {name}-domain training clips; the source/target min rule needs "
                                f"both (suite protocol.domains: pooled scores with one detector)")
    s_test, s_bank = score_section(cfg, x[bank], x[test], domain, what)
    s_train = s_bank[:len(train)]  # the threshold comes from the real training clips only
    if supplementary == "noise-norm":
        noise = sx.noise_clips(clips, supp)
        used["noise_clips"] = len(noise)
        if noise:
            d_test = sx.noise_distances(x[noise], x[test], cfg.metric, cfg.chunk)
            d_train = sx.noise_distances(x[noise], x[train], cfg.metric, cfg.chunk)
            s_test, s_train, used["noise_fit"] = sx.noise_normalise(s_test, s_train, d_test, d_train)
    return s_test, s_train, used


def _split_units(year: int | None, clips: list[AsdClip], test: list[int], s_test: np.ndarray,
                 decisions: np.ndarray, what: str) -> dict[Unit, tuple[list[str], np.ndarray, np.ndarray]]:
    """Test scores of one detector problem, per unit of the submission files."""
    units: dict[Unit, tuple[list[str], np.ndarray, np.ndarray]] = {}
    keys: dict[Unit, list[int]] = defaultdict(list)
    for k, i in enumerate(test):
        c = clips[i]
        keys[Unit(c.machine, c.unit, c.domain if year == 2021 else None)].append(k)
    if year == 2021:  # one detector per section, files per (section, domain)
        for machine, unit in dict.fromkeys((u.machine, u.section) for u in keys):
            for dom in ("source", "target"):
                if Unit(machine, unit, dom) not in keys:
                    raise DataError(f"{what}: no {dom}_test clips of {machine}/{unit} "
                                    f"(2021 scores each domain's test folder)")
    for u, sel in keys.items():
        units[u] = ([clips[test[k]].name for k in sel], s_test[sel], decisions[sel])
    return units


def score_set(spec: AnomalySuiteSpec, cfg: BackendConfig, clips: list[AsdClip], x: np.ndarray,
              set_name: str, supplementary: str = "ignore", report: dict[str, Any] | None = None
              ) -> dict[Unit, tuple[list[str], np.ndarray, np.ndarray]]:
    """Per unit of ``set_name``: (test file names, anomaly scores, 0/1 decisions). Labels unused.

    ``supplementary`` (``supplementary.MODES``) uses the set's ``supplemental`` clips (present in
    ``clips`` only when the run asked for them); what each unit used is written into ``report``."""
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
        supp = [i for i in members if clips[i].split == sx.SPLIT]
        if not train or not test:
            raise DataError(f"{what}: needs training and test clips (found {len(train)} and {len(test)})")
        s_test, s_train, used = _score_members(spec, cfg, clips, x, train, test, supp, supplementary, what)
        if report is not None and supplementary != "ignore":
            report.setdefault(machine, {})[unit] = used
        thr = (m.gamma_threshold if p.threshold == "gamma" else m.percentile_threshold)(s_train, p.threshold_q)
        units.update(_split_units(year, clips, test, s_test, (s_test > thr).astype(int), what))
    return units


def score_pooled(spec: AnomalySuiteSpec, cfg: BackendConfig, clips: list[AsdClip], x: np.ndarray, set_name: str,
                 supplementary: str = "ignore") -> dict[Unit, tuple[list[str], np.ndarray, None]]:
    """The pooled, machine-agnostic detector (arXiv 2602.16253): the training clips of every machine type
    and section of the set form one bank (per domain under the min rule), every test clip is scored
    against it without its machine identity; the scores come back per unit only for evaluation."""
    members = [i for i, c in enumerate(clips) if c.set == set_name]
    train = [i for i in members if clips[i].split == "train"]
    test = [i for i in members if clips[i].split == "test"]
    supp = [i for i in members if clips[i].split == sx.SPLIT]
    what = f"{set_name} (pooled over {len({clips[i].machine for i in members})} machine types)"
    if not train or not test:
        raise DataError(f"{what}: needs training and test clips (found {len(train)} and {len(test)})")
    s_test, _, _ = _score_members(spec, cfg, clips, x, train, test, supp, supplementary, what)
    units = _split_units(spec.data.year, clips, test, s_test, np.zeros(len(test), dtype=int), what)
    return {u: (names, scores, None) for u, (names, scores, _) in units.items()}


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


def set_metrics(spec: AnomalySuiteSpec, truths: list[TruthUnit], folder: Path,
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


def set_headline(res: dict[str, Any]) -> float | None:
    """One number per scored set: the year's official score; MIMII (b): mean F1; else mean(AUC, pAUC)."""
    if res.get("official_score") is not None:
        return res["official_score"]
    if "mean_f1" in res:  # MIMII protocol (b): mean F1 of the abnormal class over machine types
        return res["mean_f1"]
    if "mean_auc" in res:
        return float(np.mean([res["mean_auc"], res["mean_pauc"]]))  # RMIS DCASE20 summary: mean(AUC, pAUC)
    return None
