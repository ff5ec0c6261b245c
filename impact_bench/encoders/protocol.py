"""The encoder contract: a ``runtime_checkable`` Protocol, no base class required.

An encoder turns a batch of mono waveforms at its declared ``sample_rate`` into one embedding per
clip. The harness guarantees the input: float32, shape (B, T), T ≥ ``min_input_seconds`` ×
``sample_rate`` (shorter clips are zero-padded at the end, longer ones than
``max_input_seconds`` cut, and the policy recorded). ``embed`` must be deterministic, must not
depend on batch composition, must not touch global RNG state, and runs on frozen weights (torch
encoders: ``eval()`` and ``torch.inference_mode()``).

Optional attributes the harness records when present: ``config`` (dict of settings that change
the embedding), ``checkpoint_sha256``, ``licence`` (the older spelling ``license`` is read too).
A built-in encoder's licence comes from its card (``impact_bench.encoders.cards``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: importing the contract must not import numpy
    import numpy as np


@runtime_checkable
class Encoder(Protocol):
    name: str
    version: str  # bump whenever the embedding of the same input could change
    sample_rate: int
    embedding_dim: int
    min_input_seconds: float
    max_input_seconds: float | None

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """(B, T) float32 waveforms → (B, embedding_dim) float32 embeddings."""
        ...


# The contract's members, in declaration order: the annotated attributes, then the methods.
PROTOCOL_ATTRIBUTES: tuple[str, ...] = (
    *Encoder.__annotations__,
    *(name for name, value in vars(Encoder).items() if callable(value) and not name.startswith("_")),
)

# describe() keys that say nothing about the numbers (kept out of cache keys and run fingerprints)
LICENCE_KEYS = ("licence", "license")


def missing_attributes(obj: object) -> list[str]:
    """The members of the contract that ``obj`` lacks."""
    return [name for name in PROTOCOL_ATTRIBUTES if not hasattr(obj, name)]


def describe(encoder: Encoder) -> dict[str, Any]:
    """What a results file records about an encoder. ``licence``: a built-in's card licence, else the
    encoder's ``licence`` (or ``license``) attribute; ``license`` repeats it for readers of older files."""
    from impact_bench.encoders.cards import licence_of

    licence = licence_of(encoder)
    return {
        "name": encoder.name,
        "version": encoder.version,
        "sample_rate": int(encoder.sample_rate),
        "embedding_dim": int(encoder.embedding_dim),
        "min_input_seconds": float(encoder.min_input_seconds),
        "max_input_seconds": None if encoder.max_input_seconds is None else float(encoder.max_input_seconds),
        "config": dict(getattr(encoder, "config", {}) or {}),
        "checkpoint_sha256": getattr(encoder, "checkpoint_sha256", None),
        "licence": licence,
        "license": licence,
    }


def identity(encoder: Encoder) -> dict[str, Any]:
    """:func:`describe` without the licence: the fields that determine an encoder's embeddings, for cache
    keys and run fingerprints (rewording a licence must not invalidate either)."""
    return {k: v for k, v in describe(encoder).items() if k not in LICENCE_KEYS}
