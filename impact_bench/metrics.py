"""Classification metrics from a confusion matrix (rows = true class, columns = predicted).

Per-class F1 = 2TP / (2TP + FP + FN), 0 when a class is neither present nor predicted
(scikit-learn's ``zero_division=0``). Macro F1 = mean of the per-class F1 over ALL classes of
the problem: exactly how the paper's Table 3 (per machine) follows from Table 4 (per task).
"""
from __future__ import annotations

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def scores(cm: np.ndarray) -> dict[str, object]:
    cm = cm.astype(np.float64)
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    denom = support + predicted
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    return {
        "per_class_f1": f1.tolist(),
        "macro_f1": float(f1.mean()),
        "accuracy": float(tp.sum() / max(cm.sum(), 1)),
        "balanced_accuracy": float(recall[support > 0].mean()) if (support > 0).any() else 0.0,
    }


def mean_std(values: list[float] | np.ndarray) -> dict[str, float]:
    """Mean and population std (ddof 0, numpy's default) over seeds."""
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "std": float(arr.std())}
