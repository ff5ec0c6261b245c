"""Anomaly scoring back ends on frozen embeddings, and the per-section source/target rule.

Back ends (fit on normal training clips only; higher score = more anomalous):
- ``knn``: mean distance to the k nearest training clips, cosine by default, k = 1 (RMIS, GenRep).
- ``kmeans``: distance to the nearest of ``n_clusters`` k-means centres (DCASE 2025 fine-tuned report;
  Wilkinghoff 2024 for the source domain).
- ``lof``: scikit-learn LocalOutlierFactor (novelty mode), score = −score_samples.
- ``gmm``: scikit-learn GaussianMixture (diagonal), score = −log-likelihood.

Score normalisation of each detector before the source/target min (``normalise``):
- ``none`` (default): raw distances.
- ``train-loo``: z-score with the mean/std of the detector's scores on its own training bank, each
  clip left out of its own neighbour search (knn); in-sample scores for the other back ends.
  Uses no test statistics.
- ``test-z``: z-score with the section's test-score mean/std, as RMIS and GenRep do. Transductive:
  results and leaderboards flag it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import LocalOutlierFactor

from impact_bench.anomaly.knn import DEFAULT_CHUNK, knn_distances
from impact_bench.errors import DataError
from impact_bench.suites.spec import BackendSpec

BACKENDS = ("knn", "kmeans", "lof", "gmm")
NORMALISATIONS = ("none", "train-loo", "test-z")
TRANSDUCTIVE = {"test-z"}


_SPEC = BackendSpec()


@dataclass(frozen=True)
class BackendConfig:
    # defaults live once, in the suite schema (impact_bench.suites.spec.BackendSpec)
    name: str = _SPEC.name
    k: int = _SPEC.k                         # RMIS / GenRep: k = 1
    metric: str = _SPEC.metric               # RMIS: cosine; GenRep: euclidean
    n_clusters: int = _SPEC.n_clusters       # kmeans centres (no official count read; capped at the bank size)
    n_components: int = _SPEC.n_components   # gmm components (capped at the bank size)
    normalise: str = _SPEC.normalise
    chunk: int = DEFAULT_CHUNK
    seed: int = 0

    def __post_init__(self) -> None:
        if self.name not in BACKENDS:
            raise DataError(f"back end must be one of {', '.join(BACKENDS)}, got {self.name!r}")
        if self.normalise not in NORMALISATIONS:
            raise DataError(f"score normalisation must be one of {', '.join(NORMALISATIONS)}, got {self.normalise!r}")
        if self.metric not in ("cosine", "euclidean"):
            raise DataError(f"metric must be cosine or euclidean, got {self.metric!r}")

    @property
    def transductive(self) -> bool:
        return self.normalise in TRANSDUCTIVE

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "transductive": self.transductive}


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


class Detector:
    """One back end fitted on one bank of normal embeddings."""

    def __init__(self, cfg: BackendConfig, bank: np.ndarray, what: str = "training bank") -> None:
        if len(bank) == 0:
            raise DataError(f"{what}: no training clips to fit the {cfg.name} back end on")
        self.cfg, self.bank = cfg, np.asarray(bank, dtype=np.float32)
        x = _unit(self.bank) if cfg.metric == "cosine" and cfg.name != "knn" else self.bank
        if cfg.name == "kmeans":
            self.model = KMeans(min(cfg.n_clusters, len(x)), n_init=10, random_state=cfg.seed).fit(x)
        elif cfg.name == "lof":
            n = max(1, min(20, len(x) - 1))  # scikit-learn default 20 neighbours, capped by the bank
            self.model = LocalOutlierFactor(n_neighbors=n, novelty=True, metric=cfg.metric).fit(x)
        elif cfg.name == "gmm":
            self.model = GaussianMixture(min(cfg.n_components, len(x)), covariance_type="diag", reg_covar=1e-6,
                                         random_state=cfg.seed).fit(x)

    def score(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        c = self.cfg
        if c.name == "knn":
            return knn_distances(self.bank, x, c.k, c.metric, c.chunk).mean(1).astype(np.float64)
        if c.name == "kmeans":  # knn_distances unit-normalises both sides for cosine
            centres = self.model.cluster_centers_.astype(np.float32)
            return knn_distances(centres, x, 1, c.metric, c.chunk)[:, 0].astype(np.float64)
        return -self.model.score_samples(_unit(x) if c.metric == "cosine" else x).astype(np.float64)

    def self_scores(self) -> np.ndarray:
        """Scores of the training bank itself: leave-one-out for knn, in-sample otherwise."""
        c = self.cfg
        if c.name == "knn":
            if len(self.bank) <= c.k:
                raise DataError(f"train-loo normalisation with k = {c.k} needs more than {c.k} training clips "
                                f"per detector, got {len(self.bank)}")
            return knn_distances(self.bank, self.bank, c.k, c.metric, c.chunk, exclude_self=True).mean(1)
        if c.name == "lof":
            return -self.model.negative_outlier_factor_.astype(np.float64)
        return self.score(self.bank)


def _zscore(s: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return (s - ref.mean()) / max(float(ref.std()), 1e-12)


def score_section(cfg: BackendConfig, train: np.ndarray, test: np.ndarray, train_domain: np.ndarray | None = None,
                  what: str = "section") -> tuple[np.ndarray, np.ndarray]:
    """(test scores, training-clip scores) for one unit of detection.

    ``train_domain`` (0 source / 1 target per training clip) → separate source and target
    detectors, score = min of the two (normalised) scores (2022+ rule); None → one detector on
    every training clip (2020, 2021). Training-clip scores (for the decision threshold) leave each
    clip out of its own bank where the back end allows it.
    """
    banks = [np.arange(len(train))] if train_domain is None else \
        [np.flatnonzero(np.asarray(train_domain) == d) for d in (0, 1)]
    test_parts, train_parts = [], []
    for idx, dom in zip(banks, ("source", "target") if train_domain is not None else ("all",)):
        det = Detector(cfg, train[idx], f"{what} ({dom} training clips)")
        s_test = det.score(test)
        s_train = det.score(train)
        # a knn bank of ≤ k clips has no leave-one-out scores: in-sample then, an error under train-loo
        own = det.self_scores() if cfg.name != "knn" or len(idx) > cfg.k or cfg.normalise == "train-loo" else None
        if own is not None:
            s_train[idx] = own
        if cfg.normalise == "train-loo":
            s_test, s_train = _zscore(s_test, own), _zscore(s_train, own)
        elif cfg.normalise == "test-z":
            s_test, s_train = _zscore(s_test, s_test), _zscore(s_train, s_test)
        test_parts.append(s_test)
        train_parts.append(s_train)
    return np.min(test_parts, axis=0), np.min(train_parts, axis=0)
