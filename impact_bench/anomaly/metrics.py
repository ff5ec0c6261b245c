"""Official DCASE Task 2 metrics, computed exactly as the official evaluators do.

Sources: ``y-kawagu/dcase2020_task2_evaluator``,
``y-kawagu/dcase2021_task2_evaluator``, ``Kota-Dohi/dcase2022_evaluator``,
``nttcslab/dcase2023_task2_evaluator`` and ``…2024…`` (the 2022–2024 code is identical).

- AUC = ``roc_auc_score``; pAUC = ``roc_auc_score(max_fpr=0.1)`` — scikit-learn's McClish-
  standardised partial AUC (chance 0.5), which every evaluator uses, not the task papers' p-normalised area.
- 2020: per machine ID, all test clips of the ID; per machine type the arithmetic mean over IDs.
- 2021: per (type, section, domain) on that domain's test clips; official score = harmonic mean of
  every AUC and pAUC.
- 2022+: per (type, section): AUC-source on source normals + ALL anomalies of the section, AUC-target
  likewise, pAUC over the whole section; official score = hmean over [AUC-s…, AUC-t…, pAUC…].
- Every harmonic mean floors its inputs at ``sys.float_info.epsilon`` (``numpy.maximum(x, eps)``).
- Precision / recall / F1 per domain on that domain's clips: tp / max(tp + fp, eps), ….
"""
from __future__ import annotations

import sys
from typing import Any, Sequence

import numpy as np
import scipy.stats
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_auc_score, roc_curve

from impact_bench.errors import DataError

EPS = sys.float_info.epsilon  # evaluators: numpy.maximum(x, sys.float_info.epsilon)
MAX_FPR = 0.1                 # evaluators: MAX_FPR = 0.1
SOURCE, TARGET = 0, 1         # ground_truth_domain: 0 = source, 1 = target


def _check(y: np.ndarray, s: np.ndarray, what: str) -> None:
    if len(y) != len(s):
        raise DataError(f"{what}: {len(y)} labels but {len(s)} scores")
    if not np.isfinite(s).all():
        raise DataError(f"{what}: {int((~np.isfinite(s)).sum())} anomaly scores are NaN/Inf")
    if len(np.unique(y)) != 2:
        raise DataError(f"{what}: AUC needs both normal and anomalous clips, got labels {sorted(set(y.tolist()))}")


def auc(y: np.ndarray, s: np.ndarray, what: str = "AUC") -> float:
    y, s = np.asarray(y), np.asarray(s, dtype=np.float64)
    _check(y, s, what)
    return float(roc_auc_score(y, s))


def pauc(y: np.ndarray, s: np.ndarray, max_fpr: float = MAX_FPR, what: str = "pAUC") -> float:
    y, s = np.asarray(y), np.asarray(s, dtype=np.float64)
    _check(y, s, what)
    return float(roc_auc_score(y, s, max_fpr=max_fpr))


def hmean(values: Sequence[float]) -> float:
    return float(scipy.stats.hmean(np.maximum(np.asarray(values, dtype=np.float64), EPS), axis=None))


def prf(y: np.ndarray, decision: np.ndarray) -> dict[str, float]:
    """Precision, recall, F1 of 0/1 decisions, with the evaluators' epsilon guards."""
    tn, fp, fn, tp = confusion_matrix(np.asarray(y), np.asarray(decision), labels=[0, 1]).ravel()
    p = tp / max(tp + fp, EPS)
    r = tp / max(tp + fn, EPS)
    return {"precision": float(p), "recall": float(r), "f1": float(2.0 * p * r / max(p + r, EPS))}


def best_f1(y: np.ndarray, s: np.ndarray) -> float:
    """Best F1 over all thresholds (DINOS anomaly tasks; threshold chosen on the test set — an oracle)."""
    p, r, _ = precision_recall_curve(np.asarray(y), np.asarray(s, dtype=np.float64))
    return float(np.max(2 * p * r / np.maximum(p + r, EPS)))


def section_2022(y: np.ndarray, domain: np.ndarray, s: np.ndarray, decision: np.ndarray | None = None,
                 what: str = "section") -> dict[str, float]:
    """One (machine type, section) under the 2022–2025 rules."""
    y, domain, s = np.asarray(y), np.asarray(domain), np.asarray(s, dtype=np.float64)
    out = {"auc_all": auc(y, s, what), "pauc": pauc(y, s, what=what)}
    for name, d in (("source", SOURCE), ("target", TARGET)):
        sel = (domain == d) | (y != 0)  # this domain's normals + every anomaly of the section
        out[f"auc_{name}"] = auc(y[sel], s[sel], f"{what} ({name})")
        if decision is not None:
            dom = domain == d
            for k, v in prf(y[dom], np.asarray(decision)[dom]).items():
                out[f"{k}_{name}"] = v
    return out


def unit_scores(y: np.ndarray, s: np.ndarray, decision: np.ndarray | None = None,
                what: str = "unit") -> dict[str, float]:
    """AUC and pAUC over all clips of one unit: a 2020 machine ID, a 2021 (section, domain), a MIMII ID."""
    out = {"auc": auc(y, s, what), "pauc": pauc(y, s, what=what)}
    if decision is not None:
        out.update(prf(y, decision))
    return out


def official_2022(sections: list[dict[str, float]]) -> float:
    """hmean over [AUC-source of every section, AUC-target of every section, pAUC of every section]."""
    return hmean([r["auc_source"] for r in sections] + [r["auc_target"] for r in sections]
                 + [r["pauc"] for r in sections])


def official_2021(units: list[dict[str, float]]) -> float:
    """hmean over the AUC and pAUC of every (type, section, domain)."""
    return hmean([r["auc"] for r in units] + [r["pauc"] for r in units])


def gamma_threshold(train_scores: np.ndarray, q: float = 0.9) -> float:
    """Baselines' decision threshold: ``scipy.stats.gamma.fit`` to training-clip scores, ``ppf(q)``
    (dcase2021/2022 baselines, ``decision_threshold: 0.9``)."""
    scores = np.asarray(train_scores, dtype=np.float64)
    if len(scores) < 3 or not np.isfinite(scores).all():
        raise DataError(f"gamma threshold needs ≥ 3 finite training scores, got {len(scores)}")
    a, loc, scale = scipy.stats.gamma.fit(scores)
    return float(scipy.stats.gamma.ppf(q, a, loc=loc, scale=scale))


def percentile_threshold(train_scores: np.ndarray, q: float = 0.9) -> float:
    """Plain q-quantile of training-clip scores (Wilkinghoff's 2023/2024 systems)."""
    return float(np.quantile(np.asarray(train_scores, dtype=np.float64), q))


def youden_threshold(y: np.ndarray, s: np.ndarray, what: str = "Youden") -> float:
    """Cut point maximising Youden's J = TPR − FPR over the ROC of (y, s); decide anomalous when
    ``s >= threshold`` (roc_curve's convention). MIMII SNR report §5-2 (Ruopp et al. 2008)."""
    y, s = np.asarray(y), np.asarray(s, dtype=np.float64)
    _check(y, s, what)
    fpr, tpr, thr = roc_curve(y, s)
    j = tpr - fpr
    j[~np.isfinite(thr)] = -np.inf  # roc_curve's leading +inf cut point (nothing anomalous) is not a choice
    return float(thr[int(np.argmax(j))])


ROC_POINTS = 65  # points kept per stored ROC curve (results files stay small)


def roc_points(y: np.ndarray, s: np.ndarray, n: int = ROC_POINTS) -> dict[str, list[float]]:
    """A thinned ROC curve (FPR, TPR rounded to 1e-4) for plots in leaderboards."""
    fpr, tpr, _ = roc_curve(np.asarray(y), np.asarray(s, dtype=np.float64))
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(n, len(fpr))).round().astype(int))
    return {"fpr": [round(float(v), 4) for v in fpr[keep]], "tpr": [round(float(v), 4) for v in tpr[keep]]}


# --- aggregation rules of the published tables (per machine type, per set, dev + eval) ---

def machine_score(year: int, entry: dict[str, Any]) -> float:
    """One figure per machine type as the published per-machine tables give it: 2020 mean(AUC, pAUC)
    over IDs; 2021 hmean of every (section, domain) AUC and pAUC; 2022+ hmean of every section's
    AUC-source, AUC-target and pAUC (the official score restricted to that machine type)."""
    if year == 2020:
        return (entry["mean"]["auc"] + entry["mean"]["pauc"]) / 2
    if year == 2021:
        units = [d for s in entry["sections"].values() for d in s.values()]
        return official_2021(units)
    return official_2022(list(entry["sections"].values()))


def set_score(year: int, entry: dict[str, Any]) -> float:
    """The set's headline as published: official score (2021+), mean over types of mean(AUC, pAUC) (2020)."""
    if year == 2020:
        return float(np.mean([machine_score(2020, e) for e in entry["machines"].values()]))
    return float(entry["official_score"])


def combined_score(year: int, sets: dict[str, Any]) -> float | None:
    """RMIS's per-year figure over dev and eval: their mean for 2020, their harmonic mean for 2021+.
    None unless both sets are scored."""
    dev, ev = sets.get("dev"), sets.get("eval")
    if not (dev and ev and dev.get("scored") and ev.get("scored")):
        return None
    a, b = set_score(year, dev), set_score(year, ev)
    return (a + b) / 2 if year == 2020 else hmean([a, b])


# --- beyond the official figures: ASDKit's domain metrics (not the official score) ---
# TakuyaFujimura/dcase-asd-toolkit, asdkit/utils/dcase_utils/dcase_idx.py (get_domain_idx) and
# asdkit/utils/asdkit_utils/evaluate.py (dcase_auc, get_auc_type_list_domain_auc): per section,
#   s_*  = source clips only (source normals vs source anomalies),   t_* likewise for the target domain,
#   mix_* = every clip of the section,   smix_auc = source normals + ALL anomalies (= the official AUC-source),
#   tmix_auc = target normals + ALL anomalies (= the official AUC-target); pAUC with max_fpr = 0.1.
DOMAIN_MASKS = {
    "s": lambda y, d: d == SOURCE,
    "t": lambda y, d: d == TARGET,
    "mix": lambda y, d: np.ones(len(y), dtype=bool),
    "smix": lambda y, d: (d == SOURCE) | (y != 0),
    "tmix": lambda y, d: (d == TARGET) | (y != 0),
}
DOMAIN_METRICS = ("s_auc", "s_pauc", "t_auc", "t_pauc", "mix_auc", "mix_pauc", "smix_auc", "tmix_auc")


def domain_metrics(y: np.ndarray, domain: np.ndarray | None, s: np.ndarray) -> dict[str, float]:
    """ASDKit's s/t/mix/smix/tmix AUCs of one section (``domain``: 0 source, 1 target, −1 or None unknown).

    As ASDKit lists them: s_* when the section has source clips, t_* when it has target clips, smix/tmix
    when it has both, mix_* always; a metric whose clips lack normals or anomalies is left out."""
    y, s = np.asarray(y), np.asarray(s, dtype=np.float64)
    d = np.full(len(y), -1) if domain is None else np.asarray(domain)
    has = {"s": bool((d == SOURCE).any()), "t": bool((d == TARGET).any())}
    wanted = ["mix_auc", "mix_pauc"]
    wanted += [f"{k}_{a}" for k in ("s", "t") if has[k] for a in ("auc", "pauc")]
    if has["s"] and has["t"]:
        wanted += ["smix_auc", "tmix_auc"]
    out: dict[str, float] = {}
    for name in DOMAIN_METRICS:
        if name not in wanted:
            continue
        kind, what = name.rsplit("_", 1)
        sel = DOMAIN_MASKS[kind](y, d)
        if len(np.unique(y[sel])) != 2:
            continue
        out[name] = float(roc_auc_score(y[sel], s[sel], max_fpr=MAX_FPR if what == "pauc" else None))
    return out


def aggregate(values: Sequence[float], rule: str) -> float:
    """ASDKit's totals: harmonic mean (``rule="hmean"``, 2021+) or arithmetic mean (``"mean"``, 2020)."""
    return hmean(values) if rule == "hmean" else float(np.mean(values))
