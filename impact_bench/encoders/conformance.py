"""Conformance checks for any encoder, in the spirit of scikit-learn's ``check_estimator`` and
HEAR's validator: one function per check, each returning a :class:`Check` with a message a
plugin author can act on.

Use ``impact-bench check-encoder NAME`` or, in a test::

    from impact_bench.encoders.conformance import assert_conforms
    assert_conforms(MyEncoder())

or, one test per check (like scikit-learn's ``parametrize_with_checks``)::

    from impact_bench.encoders.conformance import parametrize_with_checks, run_check

    @parametrize_with_checks([MyEncoder()])
    def test_conforms(encoder, check):
        result = run_check(check, encoder)
        assert result.passed, result.message

The ``frames-*`` checks test the optional frame-level embeddings (``embed_frames``, see
``impact_bench.encoders.protocol``): shapes and dtypes, timestamps (spacing, within the clip, prefix-
consistent across clip lengths), determinism, batch independence. An encoder without ``embed_frames``
gets them as skipped (``Check.skipped``), which counts as passed.

``encoders`` may also be names (strings) that the test turns into encoders itself, e.g. through a
session-scoped fixture that builds each one once (``tests/test_conformance.py`` does this for every
built-in encoder).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from impact_bench.encoders.protocol import FRAME_ATTRIBUTES, PROTOCOL_ATTRIBUTES, Encoder, has_frames, missing_attributes

if TYPE_CHECKING:
    import pytest


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    message: str
    skipped: bool = False  # an optional member (embed_frames) is absent: nothing to check, counts as passed


def _signals(enc: Encoder, seconds: float = 1.0) -> np.ndarray:
    """Noise, a 1 kHz-ish tone, silence: three deterministic clips at the encoder's rate."""
    sr = int(enc.sample_rate)
    n = max(int(math.ceil(seconds * sr)), int(math.ceil(enc.min_input_seconds * sr)))
    t = np.arange(n) / sr
    noise = np.random.default_rng(1234).standard_normal(n).astype(np.float32) * 0.1
    tone = (0.5 * np.sin(2 * np.pi * min(1000.0, sr / 8) * t)).astype(np.float32)
    return np.stack([noise, tone, np.zeros(n, np.float32)])


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-4) -> tuple[bool, float]:
    scale = max(float(np.abs(a).max(initial=0.0)), 1e-6)
    err = float(np.abs(a - b).max(initial=0.0)) / scale
    return err <= rtol, err


def check_attributes(enc: Encoder) -> Check:
    problems = []
    if not isinstance(enc, Encoder):
        problems.append(f"does not satisfy the Encoder protocol ({', '.join(PROTOCOL_ATTRIBUTES)}); "
                        f"missing: {missing_attributes(enc)}")
    else:
        if not isinstance(enc.name, str) or not enc.name:
            problems.append("name must be a non-empty str")
        if not isinstance(enc.version, str) or not enc.version:
            problems.append("version must be a non-empty str")
        if not isinstance(enc.sample_rate, int) or enc.sample_rate <= 0:
            problems.append(f"sample_rate must be a positive int, got {enc.sample_rate!r}")
        if not isinstance(enc.embedding_dim, int) or enc.embedding_dim <= 0:
            problems.append(f"embedding_dim must be a positive int, got {enc.embedding_dim!r}")
        if enc.max_input_seconds is not None and enc.max_input_seconds < enc.min_input_seconds:
            problems.append("max_input_seconds < min_input_seconds")
    return Check("attributes", not problems, "; ".join(problems) or "protocol attributes present and typed")


def check_shapes(enc: Encoder) -> Check:
    x = _signals(enc)
    out = enc.embed(x)
    if not isinstance(out, np.ndarray):
        return Check("shapes", False, f"embed returned {type(out).__name__}, expected numpy.ndarray")
    if out.shape != (3, enc.embedding_dim):
        return Check("shapes", False, f"embed((3, T)) returned shape {out.shape}, expected (3, {enc.embedding_dim})")
    if out.dtype != np.float32:
        return Check("shapes", False, f"embed returned dtype {out.dtype}, expected float32")
    return Check("shapes", True, f"(3, T) → (3, {enc.embedding_dim}) float32")


def check_finite(enc: Encoder) -> Check:
    out = enc.embed(_signals(enc))
    bad = [name for name, row in zip(("noise", "tone", "silence"), out) if not np.isfinite(row).all()]
    return Check("finite", not bad, f"NaN/Inf in embeddings of {bad}" if bad else "noise, tone and silence give finite output")


def check_deterministic(enc: Encoder) -> Check:
    x = _signals(enc)
    ok, err = _close(enc.embed(x), enc.embed(x), rtol=1e-6)
    return Check("deterministic", ok, f"two calls differ (max rel. error {err:.2e})" if not ok else "repeat calls agree")


def check_batch_invariance(enc: Encoder) -> Check:
    x = _signals(enc)
    batched = enc.embed(x)
    single = np.concatenate([enc.embed(x[i:i + 1]) for i in range(len(x))])
    ok, err = _close(batched, single)
    return Check("batch-invariance", ok, f"batched vs one-by-one max rel. error {err:.2e} (tolerance 1e-4)")


def check_min_length(enc: Encoder) -> Check:
    n = int(math.ceil(enc.min_input_seconds * enc.sample_rate))
    x = np.random.default_rng(7).standard_normal((2, n)).astype(np.float32) * 0.1
    try:
        out = enc.embed(x)
    except Exception as exc:  # the point of the check is to report any failure
        return Check("min-length", False, f"input of min_input_seconds ({n} samples) raised {type(exc).__name__}: {exc}")
    ok = out.shape == (2, enc.embedding_dim) and bool(np.isfinite(out).all())
    return Check("min-length", ok, f"{n}-sample input " + ("works" if ok else f"gave shape {out.shape} / non-finite values"))


def check_sample_rate(enc: Encoder) -> Check:
    """The encoder must respond to content across its declared band and keep its declared rate."""
    sr = enc.sample_rate
    n = max(sr, int(math.ceil(enc.min_input_seconds * sr)))
    t = np.arange(n) / sr
    low = np.sin(2 * np.pi * 0.02 * sr * t).astype(np.float32)
    high = np.sin(2 * np.pi * 0.3 * sr * t).astype(np.float32)
    out = enc.embed(np.stack([low, high]))
    if enc.sample_rate != sr:
        return Check("sample-rate", False, f"sample_rate changed from {sr} to {enc.sample_rate} during embed")
    differs = not np.allclose(out[0], out[1], rtol=1e-3, atol=1e-6)
    return Check("sample-rate", differs, f"tones at 2 % and 30 % of {sr} Hz give "
                 + ("different embeddings" if differs else "the same embedding: input is ignored or mis-sampled"))


def check_no_side_effects(enc: Encoder) -> Check:
    """Global RNGs (numpy, random, torch) untouched; the input array not modified."""
    import torch

    x = _signals(enc)
    before = x.copy()
    np_state, py_state, torch_state = np.random.get_state(), random.getstate(), torch.random.get_rng_state()
    enc.embed(x)
    problems = []
    np_after = np.random.get_state()
    if not (np_state[0] == np_after[0] and np.array_equal(np_state[1], np_after[1]) and np_state[2:] == np_after[2:]):
        problems.append("numpy global RNG state changed")
    if random.getstate() != py_state:
        problems.append("python random state changed")
    if not torch.equal(torch.random.get_rng_state(), torch_state):
        problems.append("torch global RNG state changed")
    if not np.array_equal(x, before):
        problems.append("input array modified in place")
    return Check("no-side-effects", not problems, "; ".join(problems) or "global RNG state and input untouched")


# --- optional frame-level embeddings (protocol.py: embed_frames, frame_embedding_dim, frame_hop_ms) ---

def _skip(name: str) -> Check:
    return Check(name, True, "no embed_frames (optional): skipped", skipped=True)


def _frames(enc: Encoder, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """embed_frames(x), with the return type checked (a clear AssertionError, never an IndexError)."""
    out = enc.embed_frames(x)  # type: ignore[attr-defined]
    if not (isinstance(out, tuple) and len(out) == 2 and all(isinstance(a, np.ndarray) for a in out)):
        raise AssertionError(f"embed_frames returned {type(out).__name__}, expected a tuple of two numpy arrays "
                             "(frames (B, F, D), timestamps (F,))")
    return out


def _frame_lengths(enc: Encoder) -> list[int]:
    """Clip lengths (samples) the harness may pass: the minimum, 1 s and 2.5 s where allowed."""
    sr = enc.sample_rate
    lo = int(math.ceil(enc.min_input_seconds * sr))
    hi = None if enc.max_input_seconds is None else int(enc.max_input_seconds * sr)
    return sorted({min(max(n, lo), hi) if hi is not None else max(n, lo) for n in (lo, sr, int(2.5 * sr))})


def check_frames_shapes(enc: Encoder) -> Check:
    if not has_frames(enc):
        return _skip("frames-shapes")
    missing = [a for a in FRAME_ATTRIBUTES if not hasattr(enc, a)]
    if missing:
        return Check("frames-shapes", False, f"embed_frames needs the attributes {list(FRAME_ATTRIBUTES)}; missing {missing}")
    dim, hop = getattr(enc, "frame_embedding_dim"), getattr(enc, "frame_hop_ms")
    if not isinstance(dim, int) or dim <= 0 or not isinstance(hop, (int, float)) or not hop > 0:
        return Check("frames-shapes", False, f"frame_embedding_dim must be a positive int and frame_hop_ms a positive "
                                             f"number, got {dim!r} and {hop!r}")
    x = _signals(enc)
    frames, ts = _frames(enc, x)
    problems = []
    if frames.ndim != 3 or frames.shape[0] != 3 or frames.shape[2] != dim:
        problems.append(f"frames have shape {frames.shape}, expected (3, F, {dim})")
    elif frames.shape[1] < 1:
        problems.append(f"no frame for a {x.shape[1] / enc.sample_rate:g}-s clip")
    if frames.dtype != np.float32:
        problems.append(f"frames dtype {frames.dtype}, expected float32")
    if ts.dtype != np.float64 or ts.shape != frames.shape[1:2]:
        problems.append(f"timestamps {ts.dtype} {ts.shape}, expected float64 ({frames.shape[1] if frames.ndim == 3 else 'F'},)")
    if not np.isfinite(frames).all():
        problems.append("NaN/Inf in frames of noise, tone or silence")
    return Check("frames-shapes", not problems, "; ".join(problems) or f"(3, T) → frames (3, {frames.shape[1]}, {dim}) "
                 f"float32, timestamps ({frames.shape[1]},) float64")


def check_frames_timestamps(enc: Encoder) -> Check:
    """At every clip length the harness may pass: timestamps strictly increasing by frame_hop_ms, within the clip,
    a shorter clip's a prefix of a longer one's."""
    if not has_frames(enc):
        return _skip("frames-timestamps")
    hop = float(getattr(enc, "frame_hop_ms"))
    rng = np.random.default_rng(11)
    previous: np.ndarray | None = None
    counts = []
    for n in _frame_lengths(enc):
        frames, ts = _frames(enc, rng.standard_normal((1, n)).astype(np.float32) * 0.1)
        duration = 1000.0 * n / enc.sample_rate
        counts.append(f"{n / enc.sample_rate:g} s: {len(ts)}")
        if frames.shape[1] != len(ts):
            return Check("frames-timestamps", False, f"{n}-sample clip: {frames.shape[1]} frames but {len(ts)} timestamps")
        if len(ts) and (ts[0] < 0 or ts[-1] > duration + 1e-6):
            return Check("frames-timestamps", False, f"{n}-sample clip ({duration:g} ms): timestamps span "
                                                     f"{ts[0]:g}–{ts[-1]:g} ms, outside the clip")
        if len(ts) > 1 and not np.allclose(np.diff(ts), hop, rtol=1e-9, atol=1e-6):
            return Check("frames-timestamps", False, f"timestamp spacing {np.unique(np.round(np.diff(ts), 6))[:4]} ms, "
                                                     f"expected frame_hop_ms = {hop:g}")
        if previous is not None and not np.allclose(ts[:len(previous)], previous, rtol=0, atol=1e-6):
            return Check("frames-timestamps", False, "a shorter clip's timestamps are not a prefix of a longer one's")
        previous = ts
    return Check("frames-timestamps", True, f"spaced {hop:g} ms, within the clip; frames per length: {', '.join(counts)}")


def check_frames_deterministic(enc: Encoder) -> Check:
    if not has_frames(enc):
        return _skip("frames-deterministic")
    x = _signals(enc)
    before = x.copy()
    (a, ta), (b, tb) = _frames(enc, x), _frames(enc, x)
    if not np.array_equal(x, before):
        return Check("frames-deterministic", False, "embed_frames modified its input array in place")
    ok, err = _close(a, b, rtol=1e-6) if a.shape == b.shape else (False, float("inf"))
    ok = ok and np.array_equal(ta, tb)
    return Check("frames-deterministic", ok, "repeat calls agree" if ok else f"two calls differ (max rel. error {err:.2e})")


def check_frames_batch_invariance(enc: Encoder) -> Check:
    if not has_frames(enc):
        return _skip("frames-batch-invariance")
    x = _signals(enc)
    batched, _ = _frames(enc, x)
    single = np.concatenate([_frames(enc, x[i:i + 1])[0] for i in range(len(x))])
    ok, err = _close(batched, single) if batched.shape == single.shape else (False, float("inf"))
    return Check("frames-batch-invariance", ok, f"batched vs one-by-one max rel. error {err:.2e} (tolerance 1e-4)")


CHECKS: tuple[Callable[[Encoder], Check], ...] = (
    check_attributes, check_shapes, check_finite, check_deterministic, check_batch_invariance,
    check_min_length, check_sample_rate, check_no_side_effects,
    check_frames_shapes, check_frames_timestamps, check_frames_deterministic, check_frames_batch_invariance,
)


def check_name(check: Callable[[Encoder], Check]) -> str:
    """``check_batch_invariance`` → ``"batch-invariance"``: the name its :class:`Check` carries."""
    return check.__name__.removeprefix("check_").replace("_", "-")


CHECKS_BY_NAME: dict[str, Callable[[Encoder], Check]] = {check_name(c): c for c in CHECKS}


def run_check(name: str, enc: Encoder) -> Check:
    """Run one check by name, letting exceptions through (a test wants the traceback)."""
    try:
        check = CHECKS_BY_NAME[name]
    except KeyError:
        raise ValueError(f"no conformance check {name!r}; checks: {', '.join(CHECKS_BY_NAME)}") from None
    return check(enc)


def run_checks(enc: Encoder) -> list[Check]:
    results = [check_attributes(enc)]
    if not results[0].passed:
        return results
    for check in CHECKS[1:]:
        try:
            results.append(check(enc))
        except Exception as exc:  # report, don't crash: this is a validator
            results.append(Check(check_name(check), False, f"raised {type(exc).__name__}: {exc}"))
    return results


def parametrize_with_checks(encoders: Iterable[Any], checks: Iterable[str] | None = None) -> "pytest.MarkDecorator":
    """``pytest.mark.parametrize`` over every (encoder, check name) pair, one test id each
    (``"<encoder name>:<check name>"``), like scikit-learn's ``parametrize_with_checks``.

    ``encoders``: encoder objects, or names (str) that the test builds itself (say, through a cached
    fixture, so that nothing is built while tests are collected). The test takes the arguments
    ``encoder`` and ``check`` and may run the check with :func:`run_check`. ``checks``: a subset of
    :data:`CHECKS_BY_NAME` (default: all, in order).
    """
    import pytest

    names = list(CHECKS_BY_NAME) if checks is None else list(checks)
    unknown = [n for n in names if n not in CHECKS_BY_NAME]
    if unknown:
        raise ValueError(f"unknown conformance check(s) {unknown}; checks: {', '.join(CHECKS_BY_NAME)}")
    params = []
    for enc in encoders:
        label = enc if isinstance(enc, str) else str(getattr(enc, "name", type(enc).__name__))
        params += [pytest.param(enc, name, id=f"{label}:{name}") for name in names]
    return pytest.mark.parametrize(("encoder", "check"), params)


def assert_conforms(enc: Encoder) -> None:
    """Test helper: raise AssertionError listing every failed check."""
    failed = [c for c in run_checks(enc) if not c.passed]
    if failed:
        raise AssertionError("encoder fails conformance:\n" + "\n".join(f"- {c.name}: {c.message}" for c in failed))
