"""Input errors and the stratified bootstrap draws shared by every resampling test in this package.

A resample draws, within each stratum of ``n_c`` items, ``n_c`` items uniformly with replacement
(Efron & Tibshirani 1993, *An Introduction to the Bootstrap*; stratified and clustered data: Davison
& Hinkley 1997, *Bootstrap Methods and their Application*, ch. 3). The multiplicities of one stratum are then a
Multinomial(n_c; 1/n_c, ..., 1/n_c) count vector. Draws are made in fixed blocks of ``BLOCK``
resamples, stratum after stratum, from ``numpy.random.default_rng(seed)``, so the draws depend only
on (strata, n_boot, seed): the vectorised tests and their reference loops consume the same stream.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from impact_bench.errors import ImpactBenchError

BLOCK = 500  # resamples per block: part of the RNG contract, do not make it a parameter


class StatsInputError(ImpactBenchError, ValueError):
    """Arrays handed to a statistic have the wrong shape, type, range or size."""


@dataclass(frozen=True)
class Strata:
    """Items grouped by stratum: ``members[c]`` are the item positions (0..n-1) of stratum ``c``."""

    n: int
    members: tuple[np.ndarray, ...]


def make_strata(codes: np.ndarray) -> Strata:
    """Group positions by equal code (1-D integer codes, or 2-D rows of keys), strata in sorted order."""
    codes = np.asarray(codes)
    if codes.ndim == 2:
        _, codes = np.unique(codes, axis=0, return_inverse=True)
        codes = codes.reshape(-1)
    if codes.ndim != 1 or codes.size == 0:
        raise StatsInputError(f"strata: need a non-empty 1-D array of codes, got shape {codes.shape}")
    order = np.argsort(codes, kind="stable")
    _, starts = np.unique(codes[order], return_index=True)
    return Strata(codes.size, tuple(np.split(order, starts[1:])))


def draw_blocks(strata: Strata, n_boot: int, seed: int) -> Iterator[list[np.ndarray]]:
    """Yield, per block of at most ``BLOCK`` resamples, one (m, n_c) array of local indices per stratum."""
    if n_boot < 1:
        raise StatsInputError(f"n_boot must be >= 1, got {n_boot}")
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_boot:
        m = min(BLOCK, n_boot - done)
        yield [rng.integers(0, len(p), size=(m, len(p)), dtype=np.int32) for p in strata.members]
        done += m


def seed_weight_blocks(n_seeds: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Yield, per block of at most ``BLOCK`` resamples, (m, n_seeds) multiplicities of the seeds in a
    two-level resample: the seeds drawn with replacement (Multinomial(S; 1/S, ...)), a row summing to S.
    A stream of its own (``default_rng([seed, 1])``): the clip draws of :func:`draw_blocks` stay the same."""
    if n_seeds < 1:
        raise StatsInputError(f"n_seeds must be >= 1, got {n_seeds}")
    rng = np.random.default_rng([seed, 1])
    done = 0
    while done < n_boot:
        m = min(BLOCK, n_boot - done)
        yield rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=m).astype(np.float64)
        done += m


def local_counts(draws: np.ndarray, n_c: int) -> np.ndarray:
    """(m, n_c) multiplicity of each stratum member in each resample (a row-wise bincount)."""
    m = draws.shape[0]
    flat = (draws + (np.arange(m, dtype=np.int64) * n_c)[:, None]).ravel()
    return np.bincount(flat, minlength=m * n_c).reshape(m, n_c)


def draws_to_positions(strata: Strata, block: list[np.ndarray], row: int) -> np.ndarray:
    """Item positions (with repeats) drawn by resample ``row`` of a block: for the reference loops."""
    return np.concatenate([p[d[row]] for p, d in zip(strata.members, block)])


def percentile_summary(dist: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Percentile CI (Efron & Tibshirani 1993, ch. 13) and the two-sided bootstrap p-value.

    p = min(1, 2 · min(P*(d* ≤ 0), P*(d* ≥ 0))), P* the share of the ``n_boot`` bootstrap
    statistics: twice the share on the far side of zero (zero counting on both sides), capped at 1.
    It is 0 when every resample lies on one side of zero (report it as p < 2/n_boot).
    """
    if not 0.0 < alpha < 1.0:
        raise StatsInputError(f"alpha must be in (0, 1), got {alpha}")
    lo, hi = np.quantile(dist, [alpha / 2, 1 - alpha / 2])
    p = min(1.0, 2.0 * min(float(np.mean(dist <= 0)), float(np.mean(dist >= 0))))
    return float(lo), float(hi), p
