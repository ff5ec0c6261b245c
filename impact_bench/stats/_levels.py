"""The seed level of the two-level cluster bootstrap: head-to-head variation between training sets.

The clip bootstrap holds each seed's trained head fixed. A seed's score also carries a head effect (how
well the probe trained on that seed's 20 % happened to do), which the seed-average keeps with variance
σ_h²/S. Resampling the seeds as well (the plain two-stage bootstrap) counts the clip-level spread twice,
because the observed per-seed scores already vary with their test clips. Following Davison & Hinkley
(1997, *Bootstrap Methods and their Application*, §3.8, random-effects model: resample *shrunken* group
effects), the centred per-seed values are scaled so that their resampled mean has the variance of the
head component alone, estimated by moments:

    V  = var_s(x_s)                                    spread of the observed per-seed values (ddof 1)
    W  = mean_r var_s(x*_rs) − var_s(mean_r x*_rs)     spread the clip resampling alone produces
    σ_h² = max(0, V − W),   e_s = λ (x_s − x̄),   λ² = σ_h² S / ((S − 1) V)

and each resample adds H*_r = (1/S) Σ_s w_rs e_s, w_r the multiplicities of S seeds drawn with
replacement. Then Var(H*) = σ_h²/S. With no head effect beyond the clip-level noise, σ_h² ≈ 0 and the
test is the clip bootstrap; with head effects it widens by their share.
"""
from __future__ import annotations

import numpy as np


def seed_component(observed: np.ndarray, boot: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(m, ...) head component H* to add to the seed-averaged bootstrap values.

    ``observed`` (..., S) per-seed values of the original data; ``boot`` (m, ..., S) their clip-bootstrap
    values; ``weights`` (m, S) seed multiplicities of each resample (rows summing to S).
    """
    S = observed.shape[-1]
    if S < 2:
        return np.zeros(boot.shape[:-1])
    v = observed.var(axis=-1, ddof=1)
    head = head_variance(observed, boot)
    lam = np.sqrt(np.divide(head * S, (S - 1) * v, out=np.zeros_like(v), where=v > 0))
    e = lam[..., None] * (observed - observed.mean(axis=-1, keepdims=True))  # (..., S)
    wt = weights.reshape(weights.shape[0], *([1] * (observed.ndim - 1)), S)
    return (wt * e).sum(axis=-1) / S


def head_variance(observed: np.ndarray, boot: np.ndarray) -> np.ndarray:
    """σ_h² (the moment estimate above), for reports."""
    v = observed.var(axis=-1, ddof=1)
    w = boot.var(axis=-1, ddof=1).mean(axis=0) - boot.mean(axis=0).var(axis=-1, ddof=1)
    return np.maximum(0.0, v - w)
