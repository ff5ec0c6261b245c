"""The newer anomaly back ends: selective Mahalanobis, ASDKit's KNN variants, local-density scores.

Sources (read, not copied; docs/anomaly.md "Back ends" lists every deviation):
- ``mahalanobis`` — the DCASE 2023–2026 Task 2 baseline's "selective Mahalanobis" mode
  (github.com/nttcslab/dcase2023_task2_baseline_ae, ``networks/criterion/mahala.py`` and
  ``networks/dcase2023t2_ae/dcase2023t2_ae.py``): a covariance per domain (source, target), the
  score of a clip is the min over domains of the squared Mahalanobis distance ``δᵀ Σ_d⁻¹ δ``. The
  baseline's δ is an autoencoder's reconstruction error, whose covariance it estimates with the
  batch mean removed and ``/(N − 1)``; on frozen embeddings δ = x − μ_d (the domain's mean).
- ``knn-kmeans``, ``knn-smote``, ``knn-rescale`` — ASDKit (github.com/TakuyaFujimura/dcase-asd-toolkit,
  ``asdkit/backends/kmeans.py``, ``knn.py``; arXiv 2507.10264): ``Kmeans``, ``Knn(smote_ratio>0)``,
  ``KnnRescale``.
- ``local-density`` — Wilkinghoff et al., "Local density-based anomaly score normalization for domain
  generalization", IEEE/ACM TASLP 2025 (github.com/merlresearch/anomaly-score-normalization,
  ``utils.py::get_scores``, defaults from ``conf.yaml``).
"""
from __future__ import annotations

import numpy as np
import torch

from impact_bench.anomaly.knn import DEFAULT_CHUNK, knn_distances
from impact_bench.errors import DataError

COVARIANCES = ("ledoit-wolf", "empirical", "oas")
DENSITY_MODES = ("ratio", "difference")
# ASDKit's KnnRescale(k_ref_normalize=4) (asdkit/backends/knn.py, config/score/experiments/default.yaml);
# MERL conf.yaml ``norm_param: 1`` (K = 1 neighbour for the local density)
DEFAULT_K_REF = {"knn-rescale": 4, "local-density": 1}


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as ASDKit's ``normalize_vector``."""
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32)


def ledoit_wolf_covariance(x: np.ndarray) -> np.ndarray:
    """scikit-learn's ``ledoit_wolf(x)[0]`` (Ledoit & Wolf 2004, its ``ledoit_wolf_shrinkage`` and
    ``_ledoit_wolf``) with one D×D product instead of three: the sum of ``X²ᵀX²`` that scikit-learn
    forms block by block is the sum of squared row norms squared, an O(N·D) term. Tested equal."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float64))
    n, p = t.shape
    xc = t - t.mean(0)
    emp = xc.T @ xc / n                                 # empirical_covariance (maximum likelihood, /N)
    trace = float(torch.trace(emp))
    mu = trace / p
    beta_ = float(((xc * xc).sum(1) ** 2).sum())        # Σ of <X², X²> = Σ_n (Σ_i x_ni²)²
    delta_ = float((emp * emp).sum())                   # Σ of the squared coefficients of <X, X> / N²
    beta = (beta_ / n - delta_) / (p * n)
    delta = (delta_ - 2.0 * mu * trace + p * mu ** 2) / p
    beta = min(beta, delta)
    shrinkage = 0.0 if beta == 0 else beta / delta
    out = ((1.0 - shrinkage) * emp).numpy()
    out.flat[:: p + 1] += shrinkage * mu
    return out


class Gaussian:
    """One domain's mean and whitening matrix; ``score`` = squared Mahalanobis distance.

    Why a whitening matrix: with Σ = L Lᵀ (Cholesky) the distance is ``‖(x − μ) L⁻ᵀ‖²``, one batched
    matmul per chunk of clips, instead of scikit-learn's row-by-row ``pairwise_distances(metric=
    "mahalanobis")`` after a pseudo-inverse by eigendecomposition. Float64 throughout: the
    precision of a shrunk 768-d covariance amplifies float32 rounding.

    ``cov``: ``ledoit-wolf`` (default) — scikit-learn's ``ledoit_wolf``: a target domain has ~10 clips
    in 768 dimensions, where the sample covariance has rank ≤ 9 and no inverse; Ledoit–Wolf shrinks
    toward a scaled identity with the analytically optimal weight, needs no tuning and keeps the
    source domain (~990 clips) close to its sample covariance. ``oas``: scikit-learn's ``oas``
    (Chen et al. 2010), the same target with a different weight. ``empirical``: the baseline's own
    unbiased estimate ``Σ δδᵀ / (N − 1)`` — defined only when N > D.
    """

    def __init__(self, bank: np.ndarray, cov: str, what: str) -> None:
        from sklearn.covariance import oas

        x = np.asarray(bank, dtype=np.float64)
        n, d = x.shape
        self.mean = x.mean(0)
        if cov == "empirical":
            if n - 1 < d:
                raise DataError(f"{what}: the empirical covariance of {n} clips in {d} dimensions is singular "
                                f"(needs more than {d} clips); use --backend-opt cov=ledoit-wolf or cov=oas")
            xc = torch.from_numpy(x - self.mean)
            sigma = (xc.T @ xc / (n - 1)).numpy()  # baseline: cov_v sums δδᵀ, then divides by num − 1
        elif cov == "ledoit-wolf":
            sigma = ledoit_wolf_covariance(x) if n > 1 else np.eye(d)
        else:
            sigma = oas(x)[0] if n > 1 else np.eye(d)
        chol, info = torch.linalg.cholesky_ex(torch.from_numpy(sigma))
        if int(info):
            raise DataError(f"{what}: the {cov} covariance is not positive definite (leading minor {int(info)}); "
                            f"use --backend-opt cov=ledoit-wolf")
        eye = torch.eye(d, dtype=torch.float64)
        self.whiten = torch.linalg.solve_triangular(chol, eye, upper=False).T.contiguous().numpy()  # L⁻ᵀ

    def score(self, x: np.ndarray, chunk: int = DEFAULT_CHUNK) -> np.ndarray:
        out = np.empty(len(x))
        w = torch.from_numpy(self.whiten)
        mu = torch.from_numpy(self.mean)
        with torch.no_grad():
            for s in range(0, len(x), chunk):
                z = (torch.from_numpy(np.asarray(x[s:s + chunk], dtype=np.float64)) - mu) @ w
                out[s:s + len(z)] = (z * z).sum(1).numpy()
        return out


def smote_bank(target: np.ndarray, source: np.ndarray, ratio: float, neighbours: int, seed: int) -> np.ndarray:
    """Target bank over-sampled with imbalanced-learn's SMOTE, as ASDKit's ``Knn.get_knn``: both
    domains go in (source = majority class, unchanged), ``sampling_strategy = ratio`` (target count
    after resampling = ratio × source count), ``k_neighbors = neighbours``, ``random_state = seed``.
    Returns the original target rows first, then the synthetic ones.

    Where ASDKit would raise we keep the method defined: no synthetic rows when the target domain
    already holds ≥ ratio × source clips or has fewer than 2 clips; ``k_neighbors`` capped at the
    target count − 1 (as ``n_clusters`` is capped at the bank size)."""
    n_new = int(len(source) * ratio) - len(target)
    if n_new <= 0 or len(target) < 2:
        return target
    from imblearn.over_sampling import SMOTE

    x = np.concatenate([source, target]).astype(np.float32)
    y = np.r_[np.zeros(len(source), int), np.ones(len(target), int)]
    sm = SMOTE(sampling_strategy=ratio, random_state=seed, k_neighbors=min(neighbours, len(target) - 1))
    xr, yr = sm.fit_resample(x, y)
    return np.asarray(xr[yr == 1], dtype=np.float32)


class MixedBank:
    """One detector on every training clip of the unit (both domains), each distance to a reference
    clip r rescaled by r's local density c_r = mean distance from r to its ``k_ref`` nearest other
    references; score = mean of the ``k`` smallest rescaled distances.

    ``knn-rescale`` (ASDKit ``KnnRescale``): ratio d(x, r)/c_r with Euclidean distance — for
    ``metric=cosine`` the Euclidean (chordal) distance between unit vectors, as ASDKit computes it.
    ``local-density`` (MERL ``get_scores``): ``ratio`` d/c_r or ``difference`` d − c_r with the
    project's cosine distance 1 − cos (MERL: ½(1 − cos); ratio identical, difference ×2) or Euclidean
    (MERL ``use_mse``: ¼ Euclidean; difference ×4); MERL takes the min (k = 1, the default here).
    """

    def __init__(self, name: str, bank: np.ndarray, k: int, k_ref: int, metric: str, mode: str, chunk: int,
                 what: str) -> None:
        if len(bank) <= max(k_ref, k):
            raise DataError(f"{what}: {name} with k_ref = {k_ref}, k = {k} needs more than {max(k_ref, k)} "
                            f"training clips, got {len(bank)}")
        self.k, self.chunk, self.mode = k, chunk, mode
        if name == "knn-rescale":
            self.metric = "euclidean"
            self.bank = unit_rows(bank) if metric == "cosine" else np.asarray(bank, np.float32)
            self.prep = unit_rows if metric == "cosine" else (lambda a: np.asarray(a, np.float32))
        else:
            self.metric, self.bank, self.prep = metric, np.asarray(bank, np.float32), \
                (lambda a: np.asarray(a, np.float32))
        density = knn_distances(self.bank, self.bank, k_ref, self.metric, chunk, exclude_self=True).mean(1)
        if mode == "ratio":
            self.scale, self.offset = np.maximum(density, 1e-12), None
        else:
            self.scale, self.offset = None, density

    def score(self, x: np.ndarray) -> np.ndarray:
        return knn_distances(self.bank, self.prep(x), self.k, self.metric, self.chunk, ref_scale=self.scale,
                             ref_offset=self.offset).mean(1).astype(np.float64)

    def self_scores(self) -> np.ndarray:
        return knn_distances(self.bank, self.bank, self.k, self.metric, self.chunk, exclude_self=True,
                             ref_scale=self.scale, ref_offset=self.offset).mean(1).astype(np.float64)
