"""Suspect audio: files a run can use but the user should know about (issue 17, item 6).

Every clip's header is read (no decoding) before extraction, for cached clips too, so two runs of the
same data report the same notices and the same native sample rates / channel counts, warm cache or not.
Kinds (each counted, with at most :data:`CAP` file names listed):

- ``truncated``: a WAV whose header promises more frames than the file holds (libsndfile silently reads
  what is there);
- ``short``: a clip shorter than half the suite's clip length (it is zero-padded);
- ``mixed-rates``: files at another sample rate than most of the run's files (they are resampled);
- ``multichannel``: files with several channels where the suite downmixes (channel mean);
- ``bit-depth``: 8-bit files, and files at another sample format than most of the run's files.

``run --strict`` turns any of them into an error.
"""
from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import soundfile as sf

from impact_bench.errors import DataError

CAP = 20  # file names listed per kind
KINDS = {
    "truncated": "WAV header promises more frames than the file holds",
    "short": "shorter than half the suite's clip length (zero-padded)",
    "mixed-rates": "sample rate differs from most files of the run (resampled)",
    "multichannel": "several channels where the suite expects mono (downmixed by channel mean)",
    "bit-depth": "8-bit, or a sample format that differs from most files of the run",
}
EIGHT_BIT = ("PCM_S8", "PCM_U8")


@dataclass(frozen=True)
class AudioFacts:
    """What a file's header says (no samples decoded)."""

    sample_rate: int
    channels: int
    frames: int                         # frames the file really holds
    subtype: str                        # PCM_16, PCM_24, FLOAT, …
    promised_frames: int | None = None  # WAV data chunk's frames, when more than the file holds


def wav_promised_frames(path: Path) -> int | None:
    """Frames the RIFF ``data`` chunk declares, when the file is shorter than that; None otherwise."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            size = Path(path).stat().st_size
            block = 0
            while True:
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return None
                cid, clen = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt = fh.read(clen + (clen & 1))
                    block = struct.unpack("<H", fmt[12:14])[0] if len(fmt) >= 14 else 0
                    continue
                if cid == b"data":
                    held = size - fh.tell()
                    if clen == 0xFFFFFFFF or clen <= held or not block:  # streaming size / complete
                        return None
                    return clen // block
                fh.seek(clen + (clen & 1), 1)
    except OSError:
        return None


def inspect(path: Path) -> AudioFacts:
    """Header facts of one file; errors name the file."""
    try:
        info = sf.info(str(path))
    except Exception as exc:  # LibsndfileError, RuntimeError
        raise DataError(f"{path}: cannot read the audio header ({exc}); expected a readable WAV or FLAC file") \
            from exc
    promised = wav_promised_frames(Path(path)) if str(path).lower().endswith(".wav") else None
    return AudioFacts(int(info.samplerate), int(info.channels), int(info.frames), str(info.subtype), promised)


def _majority(counts: Counter) -> Any:
    return max(counts.items(), key=lambda kv: (kv[1], str(kv[0])))[0] if counts else None


def collect(items: Iterable[tuple[str, AudioFacts, int]], clip_seconds: float,
            downmixes: bool) -> tuple[dict[str, dict[str, Any]], dict[int, int], dict[int, int]]:
    """``items``: (name, facts, start sample). Returns the notices by kind (``count``, capped ``files``) and
    the native sample-rate and channel-count histograms."""
    items = list(items)
    rates = Counter(f.sample_rate for _, f, _ in items)
    channels = Counter(f.channels for _, f, _ in items)
    formats = Counter(f.subtype for _, f, _ in items)
    usual_rate, usual_format = _majority(rates), _majority(formats)
    found: dict[str, list[str]] = {k: [] for k in KINDS}
    for name, f, start in items:
        if f.promised_frames is not None:
            found["truncated"].append(f"{name} ({f.frames} of {f.promised_frames} frames)")
        seconds = max(f.frames - start, 0) / f.sample_rate
        if seconds < 0.5 * clip_seconds:
            found["short"].append(f"{name} ({seconds:.3g} s)")
        if f.sample_rate != usual_rate:
            found["mixed-rates"].append(f"{name} ({f.sample_rate} Hz; most files {usual_rate} Hz)")
        if downmixes and f.channels > 1:
            found["multichannel"].append(f"{name} ({f.channels} channels)")
        if f.subtype in EIGHT_BIT or f.subtype != usual_format:
            found["bit-depth"].append(f"{name} ({f.subtype}; most files {usual_format})")
    notices = {k: {"count": len(v), "what": KINDS[k], "files": v[:CAP]} for k, v in found.items() if v}
    return notices, dict(sorted(rates.items())), dict(sorted(channels.items()))


def lines(notices: dict[str, dict[str, Any]]) -> list[str]:
    """One sentence per kind, for the log and the results' ``suite.notices``."""
    out = []
    for kind, n in notices.items():
        more = f", … and {n['count'] - len(n['files'])} more" if n["count"] > len(n["files"]) else ""
        out.append(f"suspect audio ({kind}): {n['count']} file(s) {n['what']}: {', '.join(n['files'])}{more}")
    return out


def summary(notices: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{n['count']} {kind}" for kind, n in notices.items())


PREFIX_FRAMES = 4096  # frames compared when looking for re-encoded copies


def _prefix(path: Path, cache: dict[Path, Any]) -> Any:
    if path not in cache:
        data, _ = sf.read(str(path), frames=PREFIX_FRAMES, dtype="float64", always_2d=True)
        cache[path] = data
    return cache[path]


def reencoded_across_splits(items: list[tuple[str, Path, AudioFacts, str]], limit: int = 50) -> list[str]:
    """``items``: (name, path, facts, side ∈ train/test/other). Pairs "a = b" of files on opposite sides that
    hold the same samples in different sample formats (e.g. a 16-bit file and its 24-bit copy): equal rate,
    channels and length, first frames equal to within 16-bit rounding. Only files in a minority format are
    candidates (at most ``limit``), so an ordinary suite costs nothing beyond the header read."""
    import numpy as np

    formats = Counter(f.subtype for _, _, f, _ in items)
    usual = _majority(formats)
    odd = [it for it in items if it[2].subtype != usual and it[3] in ("train", "test")][:limit]
    prefixes: dict[Path, Any] = {}
    found = []
    for name, path, f, side in odd:
        other_side = "test" if side == "train" else "train"
        for name2, path2, f2, side2 in items:
            if side2 != other_side or f2.subtype == f.subtype or (f2.sample_rate, f2.channels, f2.frames) != (
                    f.sample_rate, f.channels, f.frames):
                continue
            try:
                a, b = _prefix(path, prefixes), _prefix(path2, prefixes)
            except Exception:  # an undecodable file is reported by extraction, naming it
                continue
            if a.shape == b.shape and np.allclose(a, b, rtol=0, atol=1.5 / 32768):
                found.append(f"{name2} = {name} ({f2.subtype} / {f.subtype})")
    return found
