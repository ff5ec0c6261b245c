"""Engine of the clip-level cluster bootstrap (public API: :mod:`impact_bench.stats.classification`).

Vectorised path :func:`bootstrap_f1` and its plain-loop twin :func:`bootstrap_f1_reference`, both fed by
the same stratified draws (:mod:`impact_bench.stats._common`), so they agree exactly.

Both return every seed's macro-F1 per resample, (n_boot, E, S); the seed level of the two-level test is
added on top of them (:mod:`impact_bench.stats._levels`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from impact_bench.stats._common import StatsInputError, Strata, draw_blocks, draws_to_positions, local_counts, make_strata


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Mean over ALL ``n_classes`` of the per-class F1 = 2TP / (2TP + FP + FN), a class with no true and
    no predicted clip scoring 0 (scikit-learn ``f1_score(average="macro", labels=range(K),
    zero_division=0)``; same as ``impact_bench.metrics.scores``)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise StatsInputError(f"macro_f1: y_true {y_true.shape} and y_pred {y_pred.shape} must be equal 1-D shapes")
    _check_labels(y_true, n_classes, "y_true")
    _check_labels(y_pred, n_classes, "y_pred")
    cm = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
    tp = np.diag(cm).astype(np.float64)
    denom = (cm.sum(axis=1) + cm.sum(axis=0)).astype(np.float64)
    return float(np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0).mean())


@dataclass(frozen=True)
class Problem:
    """One probe problem: E encoders' predictions over S seeds' test sets."""

    y: np.ndarray  # (n,) labels of the union of test clips
    member: np.ndarray  # (S, n) clip is in seed s's test set
    pred: np.ndarray  # (E, S, n) prediction, -1 where not a test clip of that seed
    n_classes: int
    observed: np.ndarray  # (E, S) macro-F1


def _check_labels(a: np.ndarray, n_classes: int, what: str) -> None:
    if n_classes < 1:
        raise StatsInputError(f"n_classes must be >= 1, got {n_classes}")
    if a.size and (not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() >= n_classes):
        raise StatsInputError(f"{what}: need integer labels in [0, {n_classes}), got {a.dtype} in [{a.min()}, {a.max()}]")


def prepare(y_true: np.ndarray, test_idx_per_seed: Sequence[np.ndarray],
            preds: Sequence[Sequence[np.ndarray]], n_classes: int) -> Problem:
    """Validate the inputs and lay them out over the union of the test sets (the resampled clips)."""
    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise StatsInputError(f"y_true must be 1-D, got shape {y_true.shape}")
    _check_labels(y_true, n_classes, "y_true")
    tests = [np.asarray(t) for t in test_idx_per_seed]
    if not tests:
        raise StatsInputError("test_idx_per_seed is empty: need at least one seed")
    for s, t in enumerate(tests):
        if t.ndim != 1 or t.size == 0 or not np.issubdtype(t.dtype, np.integer):
            raise StatsInputError(f"test_idx_per_seed[{s}]: need a non-empty 1-D integer index array")
        if t.min() < 0 or t.max() >= y_true.size or np.unique(t).size != t.size:
            raise StatsInputError(f"test_idx_per_seed[{s}]: indices must be distinct and in [0, {y_true.size})")
    union = np.unique(np.concatenate(tests))
    n, S, E = union.size, len(tests), len(preds)
    member = np.zeros((S, n), dtype=bool)
    pred = np.full((E, S, n), -1, dtype=np.int64)
    observed = np.empty((E, S))
    for e, per_seed in enumerate(preds):
        if len(per_seed) != S:
            raise StatsInputError(f"encoder {e}: {len(per_seed)} prediction arrays for {S} seeds")
        for s, (t, p) in enumerate(zip(tests, per_seed)):
            p = np.asarray(p)
            if p.shape != t.shape:
                raise StatsInputError(f"encoder {e}, seed {s}: predictions {p.shape} do not match test indices {t.shape}")
            _check_labels(p, n_classes, f"encoder {e}, seed {s} predictions")
            pos = np.searchsorted(union, t)
            member[s, pos] = True
            pred[e, s, pos] = p
            observed[e, s] = macro_f1(y_true[t], p, n_classes)
    return Problem(y_true[union], member, pred, n_classes, observed)


def _designs(prob: Problem, strata: Strata, group_min: int) -> list[tuple[list[int], np.ndarray]]:
    """0/1 design matrices for groups of consecutive class strata (at least ``group_min`` clips each,
    so that every matrix product is large), rows in stratum order. Columns of a group holding classes
    G: (e, s, k) test clip of seed s predicted k by encoder e; (e, s, g) test clip of class G[g]
    predicted correctly; (s, g) test clip of class G[g]. A count vector (multiplicity of each clip in a
    resample) times them gives the predicted counts, TP and support of every encoder, seed and class."""
    E, S, _ = prob.pred.shape
    K = prob.n_classes
    groups: list[list[int]] = [[]]
    for i in range(len(strata.members)):
        if sum(strata.members[j].size for j in groups[-1]) >= group_min:
            groups.append([])
        groups[-1].append(i)
    out = []
    for g in groups:
        pos = np.concatenate([strata.members[i] for i in g])
        classes = [int(prob.y[strata.members[i][0]]) for i in g]
        y, pr, mem = prob.y[pos], prob.pred[:, :, pos], prob.member[:, pos]
        own = y[:, None] == np.asarray(classes)  # (n_g, G)
        cols = [(pr[..., None] == np.arange(K)).transpose(2, 0, 1, 3).reshape(pos.size, E * S * K),
                ((pr == y)[..., None] & own).transpose(2, 0, 1, 3).reshape(pos.size, E * S * len(g)),
                (mem[..., None] & own).transpose(1, 0, 2).reshape(pos.size, S * len(g))]
        out.append((classes, np.concatenate(cols, axis=1).astype(np.float32)))
    return out


def _f1_from_counts(support: np.ndarray, tp: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(m, E, S) macro-F1 from support (m, 1, S, K), tp and predicted (m, E, S, K)."""
    denom = support + predicted
    return np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0).mean(axis=-1)


def bootstrap_f1_seeds(prob: Problem, n_boot: int, seed: int, group_min: int = 512) -> np.ndarray:
    """(n_boot, E, S) macro-F1 per resample and seed: count matrices × design matrices, in blocks."""
    E, S, _ = prob.pred.shape
    K = prob.n_classes
    strata = make_strata(prob.y)
    designs = _designs(prob, strata, group_min)
    out, row = np.empty((n_boot, E, S)), 0
    for block in draw_blocks(strata, n_boot, seed):
        m = block[0].shape[0]
        counts = np.concatenate([local_counts(d, pos.size) for d, pos in zip(block, strata.members)], axis=1)
        counts = counts.astype(np.float32)  # the integer sums below stay exact in float32 (< 2**24)
        predicted, tp, support = np.zeros((m, E * S * K)), np.zeros((m, E, S, K)), np.zeros((m, 1, S, K))
        lo = 0
        for classes, mat in designs:
            sums = (counts[:, lo:lo + mat.shape[0]] @ mat).astype(np.float64)
            G = len(classes)
            predicted += sums[:, :E * S * K]
            tp[..., classes] = sums[:, E * S * K:E * S * (K + G)].reshape(m, E, S, G)
            support[..., classes] = sums[:, E * S * (K + G):].reshape(m, 1, S, G)
            lo += mat.shape[0]
        out[row:row + m] = _f1_from_counts(support, tp, predicted.reshape(m, E, S, K))
        row += m
    return out


def bootstrap_f1(prob: Problem, n_boot: int, seed: int, group_min: int = 512) -> np.ndarray:
    """(n_boot, E) seed-averaged macro-F1 per resample (clip level only: heads fixed)."""
    return bootstrap_f1_seeds(prob, n_boot, seed, group_min).mean(axis=-1)


def bootstrap_f1_reference(prob: Problem, n_boot: int, seed: int) -> np.ndarray:
    """Same draws as :func:`bootstrap_f1_seeds`, one resample, seed and encoder at a time via :func:`macro_f1`."""
    E, S, _ = prob.pred.shape
    strata = make_strata(prob.y)
    out, row = np.empty((n_boot, E, S)), 0
    for block in draw_blocks(strata, n_boot, seed):
        for r in range(block[0].shape[0]):
            drawn = draws_to_positions(strata, block, r)
            for e in range(E):
                f1 = []
                for s in range(S):
                    sel = drawn[prob.member[s, drawn]]
                    f1.append(macro_f1(prob.y[sel], prob.pred[e, s, sel], prob.n_classes))
                out[row, e] = f1
            row += 1
    return out
