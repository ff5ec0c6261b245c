"""Anomaly scoring back ends on frozen embeddings, and the per-section source/target rule.

Back ends (fit on normal training clips only; higher score = more anomalous):
- ``knn``: mean distance to the k nearest training clips, cosine by default, k = 1 (RMIS, GenRep).
- ``kmeans``: distance to the nearest of ``n_clusters`` k-means centres (DCASE 2025 fine-tuned report;
  Wilkinghoff 2024 for the source domain).
- ``lof``: scikit-learn LocalOutlierFactor (novelty mode), score = −score_samples.
- ``gmm``: scikit-learn GaussianMixture (diagonal), score = −log-likelihood.
- ``mahalanobis``: the DCASE baseline's selective Mahalanobis (``cov`` estimator; ``backends_extra``).
- ``knn-kmeans``: KNN over ``n_clusters`` k-means centres of the source bank; every target clip is its
  own centre (ASDKit ``Kmeans``).
- ``knn-smote``: KNN with the target bank over-sampled by SMOTE (``smote_ratio``, ``smote_neighbors``;
  ASDKit ``Knn``).
- ``knn-rescale`` / ``local-density``: one detector on the mixed (source + target) bank, distances
  rescaled by each reference clip's local density (``k_ref``, ``density``; ASDKit ``KnnRescale``,
  Wilkinghoff et al. 2025). They replace the source/target min with their own domain balancing.

Score normalisation of each detector before the source/target min (``normalise``):
- ``none`` (default): raw distances.
- ``train-loo``: z-score with the mean/std of the detector's scores on its own training bank, each
  clip left out of its own neighbour search (knn, the target banks of knn-kmeans / knn-smote, both
  mixed banks); in-sample scores for the other back ends and the k-means source bank.
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

from impact_bench.anomaly.backends_extra import (COVARIANCES, DEFAULT_K_REF, DENSITY_MODES, Gaussian, MixedBank,
                                                  smote_bank)
from impact_bench.anomaly.knn import DEFAULT_CHUNK, knn_distances
from impact_bench.errors import DataError
from impact_bench.suites.spec import BackendSpec

BACKENDS = ("knn", "kmeans", "lof", "gmm", "mahalanobis", "knn-kmeans", "knn-smote", "knn-rescale", "local-density")
MIXED_BANK = ("knn-rescale", "local-density")  # one detector on both domains' clips, no source/target min
NORMALISATIONS = ("none", "train-loo", "test-z")
SCREENS = {"auto": "auto", "on": "bf16", "off": "off"}  # --backend-opt screen=… → knn_distances(screen=…)
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
    cov: str = _SPEC.cov                     # mahalanobis covariance estimator
    smote_ratio: float = _SPEC.smote_ratio   # knn-smote: ASDKit default.yaml 0.2
    smote_neighbors: int = _SPEC.smote_neighbors  # knn-smote: ASDKit default.yaml 2
    k_ref: int | None = _SPEC.k_ref          # local density neighbours; None → the source's default
    density: str = _SPEC.density             # local-density: ratio | difference (MERL norm_type)
    screen: str = _SPEC.screen               # bf16 screen of the cosine KNN search: auto | on | off
    chunk: int = DEFAULT_CHUNK
    seed: int = 0

    def __post_init__(self) -> None:
        if self.name not in BACKENDS:
            raise DataError(f"back end must be one of {', '.join(BACKENDS)}, got {self.name!r}")
        if self.normalise not in NORMALISATIONS:
            raise DataError(f"score normalisation must be one of {', '.join(NORMALISATIONS)}, got {self.normalise!r}")
        if self.metric not in ("cosine", "euclidean"):
            raise DataError(f"metric must be cosine or euclidean, got {self.metric!r}")
        if self.cov not in COVARIANCES:
            raise DataError(f"cov (mahalanobis covariance) must be one of {', '.join(COVARIANCES)}, got {self.cov!r}")
        if self.screen not in SCREENS:
            raise DataError(f"screen must be one of {', '.join(SCREENS)}, got {self.screen!r}")
        if self.density not in DENSITY_MODES:
            raise DataError(f"density must be one of {', '.join(DENSITY_MODES)}, got {self.density!r}")
        if not isinstance(self.k, int) or self.k < 1:
            raise DataError(f"k must be an integer ≥ 1, got {self.k!r}")
        if not isinstance(self.smote_ratio, (int, float)) or not 0 < self.smote_ratio <= 1:
            raise DataError(f"smote_ratio must be in (0, 1], got {self.smote_ratio!r}")
        if not isinstance(self.smote_neighbors, int) or self.smote_neighbors < 1:
            raise DataError(f"smote_neighbors must be an integer ≥ 1, got {self.smote_neighbors!r}")
        if self.k_ref is None and self.name in DEFAULT_K_REF:
            object.__setattr__(self, "k_ref", DEFAULT_K_REF[self.name])
        if self.k_ref is not None and (not isinstance(self.k_ref, int) or self.k_ref < 1):
            raise DataError(f"k_ref must be an integer ≥ 1, got {self.k_ref!r}")

    @property
    def transductive(self) -> bool:
        return self.normalise in TRANSDUCTIVE

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "transductive": self.transductive}


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


class Detector:
    """One back end fitted on one bank of normal embeddings.

    ``role``: which bank this is — ``source``, ``target`` or ``all`` (pooled / mixed bank). ASDKit's
    k-means bank reduces only the source domain (every target clip is its own centre) and its
    SMOTE over-samples only the target domain, which needs the source bank (``majority``) for the
    class ratio."""

    def __init__(self, cfg: BackendConfig, bank: np.ndarray, what: str = "training bank", role: str = "all",
                 majority: np.ndarray | None = None) -> None:
        if len(bank) == 0:
            raise DataError(f"{what}: no training clips to fit the {cfg.name} back end on")
        self.cfg, self.bank = cfg, np.asarray(bank, dtype=np.float32)
        self.n_own = len(self.bank)  # the bank's real clips come first (knn-smote appends synthetic ones)
        # the plain KNN kernel serves knn, knn-kmeans' target bank and both knn-smote banks
        self.kind = "knn" if cfg.name == "knn" or (cfg.name == "knn-kmeans" and role == "target") \
            or cfg.name == "knn-smote" else cfg.name
        x = _unit(self.bank) if cfg.metric == "cosine" and self.kind in ("kmeans", "knn-kmeans", "lof", "gmm") \
            else self.bank
        if cfg.name == "knn-smote" and role == "target" and majority is not None:
            prep = _unit if cfg.metric == "cosine" else (lambda a: np.asarray(a, np.float32))
            aug = smote_bank(prep(self.bank), prep(np.asarray(majority, np.float32)), cfg.smote_ratio,
                             cfg.smote_neighbors, cfg.seed)
            if len(aug) > self.n_own:  # ASDKit re-normalises after SMOTE
                self.bank = _unit(aug) if cfg.metric == "cosine" else aug
        if self.kind == "kmeans":
            self.model = KMeans(min(cfg.n_clusters, len(x)), n_init=10, random_state=cfg.seed).fit(x)
        elif self.kind == "knn-kmeans":  # ASDKit Kmeans.get_centers: KMeans(n_clusters, random_state=0), defaults
            km = KMeans(min(cfg.n_clusters, len(x)), n_init="auto", random_state=cfg.seed).fit(x)
            self.centres = km.cluster_centers_.astype(np.float32)  # knn_distances re-normalises for cosine
        elif self.kind == "lof":
            n = max(1, min(20, len(x) - 1))  # scikit-learn default 20 neighbours, capped by the bank
            self.model = LocalOutlierFactor(n_neighbors=n, novelty=True, metric=cfg.metric).fit(x)
        elif self.kind == "gmm":
            self.model = GaussianMixture(min(cfg.n_components, len(x)), covariance_type="diag", reg_covar=1e-6,
                                         random_state=cfg.seed).fit(x)
        elif self.kind == "mahalanobis":
            self.model = Gaussian(self.bank, cfg.cov, what)
        elif self.kind in MIXED_BANK:
            self.model = MixedBank(cfg.name, self.bank, cfg.k, int(cfg.k_ref), cfg.metric, cfg.density, cfg.chunk,
                                   what)

        n_refs = len(self.centres) if self.kind == "knn-kmeans" else len(self.bank)
        if self.kind in ("knn", "knn-kmeans") and cfg.k > n_refs:
            raise DataError(f"{what}: {cfg.name} with k = {cfg.k} needs at least {cfg.k} reference clips or "
                            f"centres, got {n_refs}")

    @property
    def has_loo(self) -> bool:
        """Whether the training clips' own scores leave each clip out of its own bank."""
        return self.kind in MIXED_BANK or (self.kind == "knn" and self.n_own > self.cfg.k)

    def score(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        c = self.cfg
        if self.kind == "knn":
            return knn_distances(self.bank, x, c.k, c.metric, c.chunk, screen=SCREENS[c.screen]).mean(1).astype(
                np.float64)
        if self.kind == "kmeans":  # knn_distances unit-normalises both sides for cosine
            centres = self.model.cluster_centers_.astype(np.float32)
            return knn_distances(centres, x, 1, c.metric, c.chunk, screen=SCREENS[c.screen])[:, 0].astype(np.float64)
        if self.kind == "knn-kmeans":
            return knn_distances(self.centres, x, c.k, c.metric, c.chunk, screen=SCREENS[c.screen]).mean(1).astype(
                np.float64)
        if self.kind == "mahalanobis":
            return self.model.score(x, c.chunk)
        if self.kind in MIXED_BANK:
            return self.model.score(x)
        return -self.model.score_samples(_unit(x) if c.metric == "cosine" else x).astype(np.float64)

    def self_scores(self) -> np.ndarray:
        """Scores of the bank's own clips: leave-one-out for the KNN kinds, in-sample otherwise."""
        c = self.cfg
        if self.kind == "knn":
            if self.n_own <= c.k:
                raise DataError(f"train-loo normalisation with k = {c.k} needs more than {c.k} training clips "
                                f"per detector, got {self.n_own}")
            own = self.bank[:self.n_own]
            return knn_distances(self.bank, own, c.k, c.metric, c.chunk, exclude_self=True).mean(1).astype(np.float64)
        if self.kind in MIXED_BANK:
            return self.model.self_scores()
        if self.kind == "lof":
            return -self.model.negative_outlier_factor_.astype(np.float64)
        return self.score(self.bank[:self.n_own])


def _zscore(s: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return (s - ref.mean()) / max(float(ref.std()), 1e-12)


def score_section(cfg: BackendConfig, train: np.ndarray, test: np.ndarray, train_domain: np.ndarray | None = None,
                  what: str = "section") -> tuple[np.ndarray, np.ndarray]:
    """(test scores, training-clip scores) for one unit of detection.

    ``train_domain`` (0 source / 1 target per training clip) → separate source and target
    detectors, score = min of the two (normalised) scores (2022+ rule); None → one detector on
    every training clip (2020, 2021). ``knn-rescale`` and ``local-density`` always fit one detector
    on the mixed bank: their rescaling is the domain balancing. Training-clip scores (for the
    decision threshold) leave each clip out of its own bank where the back end allows it.
    """
    if train_domain is None or cfg.name in MIXED_BANK:
        banks = [("all", np.arange(len(train)))]
    else:
        dom = np.asarray(train_domain)
        banks = [("source", np.flatnonzero(dom == 0)), ("target", np.flatnonzero(dom == 1))]
    test_parts, train_parts = [], []
    for role, idx in banks:
        majority = train[banks[0][1]] if role == "target" else None
        det = Detector(cfg, train[idx], f"{what} ({role} training clips)", role, majority)
        s_test = det.score(test)
        # a knn bank of ≤ k clips has no leave-one-out scores: in-sample then, an error under train-loo
        own = det.self_scores() if det.has_loo or det.kind != "knn" or cfg.normalise == "train-loo" else None
        s_train = np.empty(len(train))
        rest = np.setdiff1d(np.arange(len(train)), idx)  # the other domain's clips: scored, not left out
        if len(rest):
            s_train[rest] = det.score(train[rest])
        s_train[idx] = own if own is not None else det.score(train[idx])
        if cfg.normalise == "train-loo":
            s_test, s_train = _zscore(s_test, own), _zscore(s_train, own)
        elif cfg.normalise == "test-z":
            s_test, s_train = _zscore(s_test, s_test), _zscore(s_train, s_test)
        test_parts.append(s_test)
        train_parts.append(s_train)
    return np.min(test_parts, axis=0), np.min(train_parts, axis=0)
