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

Optional frame-level embeddings (what HEAR's timestamp embeddings and event-level tasks need; not part
of the required members below, checked by ``impact-bench check-encoder`` when present)::

    frame_embedding_dim: int   # D of each frame (may differ from embedding_dim, e.g. logmel-stats)
    frame_hop_ms: float        # spacing of the frame timestamps
    def embed_frames(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

``embed_frames`` takes the same (B, T) float32 input as ``embed`` and returns frames (B, F, D) float32
and timestamps (F,) float64: the centre, in ms from the clip's first sample, of each frame's receptive
field along time; strictly increasing by ``frame_hop_ms``, within [0, T / sample_rate × 1000] (frames
centred beyond the clip are dropped, so F may be 0 for a very short clip); F depends on T only. The
rules of ``embed`` hold: deterministic, batch-independent, no side effects.

A shorter clip's timestamps are a prefix of a longer one's (a frame's position never depends on the
clip length). :data:`FRAME_ATTRIBUTES` lists these members; :func:`has_frames` tells whether an
encoder offers them. ``docs/encoders.md`` ("Frame-level embeddings") gives each built-in's hop.
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

# The optional frame-level members (see the module docstring); all three or none.
FRAME_ATTRIBUTES: tuple[str, ...] = ("embed_frames", "frame_embedding_dim", "frame_hop_ms")

# describe() keys that say nothing about the numbers (kept out of cache keys and run fingerprints)
LICENCE_KEYS = ("licence", "license")


def missing_attributes(obj: object) -> list[str]:
    """The members of the contract that ``obj`` lacks."""
    return [name for name in PROTOCOL_ATTRIBUTES if not hasattr(obj, name)]


def has_frames(obj: object) -> bool:
    """Whether ``obj`` offers frame-level embeddings (a callable ``embed_frames``)."""
    return callable(getattr(obj, "embed_frames", None))


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
