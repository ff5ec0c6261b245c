"""Embedding extraction: hash clips, find duplicates, fill the cache in batches, return (N, D).

Under ``torchrun`` each rank embeds every world-th clip still missing from the cache and stores
its shards there (uuid-named files, so ranks never collide); after a barrier the main rank reads
the whole set back from the cache. Sharding therefore needs the cache.

Per clip: suite front end (load, cut, normalise at the suite rate) → resample to the encoder's
rate → pad/crop to the encoder's declared input limits → ``encoder.embed``. The pad/crop policy
is returned for the results file.

Near/far stereo suites (DCASE 2026, ``audio.channel_policy``): ``near``/``far`` read channel 0/1, ``mean``
the downmix; ``both`` runs the extraction once per channel (each with its own cache key, so a later
``near`` or ``far`` run reuses them) and concatenates the rows [near | far]. A file whose channel count
is not the suite's ``audio.channels`` is an error naming it (decoded files only: cache hits are not
re-read).
"""
from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

import torch

from impact_bench import audio, distributed, faults
from impact_bench.cache import EmbeddingCache, canonical_hash, file_sha256
from impact_bench.distributed import Ranks
from impact_bench.encoders.protocol import Encoder, identity
from impact_bench.errors import DataError, EncoderError
from impact_bench.suites.dinos import Clip
from impact_bench.suites.spec import AudioSpec

SHARD_CLIPS = 512  # clips per cache shard: bounds what an interruption can lose


@dataclass
class Extraction:
    embeddings: np.ndarray
    hashes: list[str]
    cached: int
    computed: int
    seconds: float
    policy: dict[str, object]
    notices: list[str] = field(default_factory=list)
    native_rates: dict[int, int] = field(default_factory=dict)
    channels: dict[int, int] = field(default_factory=dict)
    windows: dict[int, int] = field(default_factory=dict)  # windows per clip → clips (windows policy)
    silent: int = 0


def hash_clips(clips: list[Clip], progress: bool = True) -> list[str]:
    """Content key per clip: the file's sha256, plus ``@start`` for a clip read from a later sample."""
    return [file_sha256(c.path) + (f"@{c.start}" if getattr(c, "start", 0) else "")
            for c in tqdm(clips, desc="hashing", unit="clip", disable=not progress, leave=False)]


def dedupe(clips: list[Clip], hashes: list[str]) -> tuple[list[int], list[str]]:
    """Indices to keep. Identical audio under two labels is an error; under one label it is kept once."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, h in enumerate(hashes):
        groups[h].append(i)
    conflicts, notices, drop = [], [], set()
    for idx in groups.values():
        if len(idx) < 2:
            continue
        labels = {clips[i].task for i in idx}
        if len(labels) > 1:
            conflicts.append(" = ".join(f"{clips[i].relpath} ({clips[i].task})" for i in idx))
        else:
            drop.update(idx[1:])
            notices.append(f"duplicate audio kept once: {' = '.join(clips[i].relpath for i in idx)}")
    if conflicts:
        raise DataError("identical audio files carry different labels:\n  " + "\n  ".join(conflicts[:20])
                        + (f"\n  … and {len(conflicts) - 20} more" if len(conflicts) > 20 else ""))
    return [i for i in range(len(clips)) if i not in drop], notices


def input_policy(encoder: Encoder, spec: AudioSpec) -> dict[str, object]:
    n = int(round(spec.clip_seconds * encoder.sample_rate))
    lo = int(math.ceil(encoder.min_input_seconds * encoder.sample_rate))
    hi = None if encoder.max_input_seconds is None else int(encoder.max_input_seconds * encoder.sample_rate)
    length = max(n, lo) if hi is None else min(max(n, lo), hi)
    if spec.clip_policy == "windows":
        action = (f"whole clip in non-overlapping windows of {length} samples "
                  f"({length / encoder.sample_rate:g} s), embeddings mean-pooled over windows")
    else:
        action = "none" if length == n else ("zero-pad at end" if length > n else "crop to first window")
    return {"encoder_sample_rate": encoder.sample_rate, "input_samples": length, "pad_crop": action}


# near/far stereo (nttcslab/dcase2023_task2_baseline_ae README, "Dataset audio format"): left = near mic
NEAR_FAR_CHANNEL: dict[str, int | None] = {"near": 0, "far": 1, "mean": None}
CHANNEL_POLICIES = ("near", "far", "mean", "both")
_POLICY_TEXT = {
    "near": "near: channel 0 (left, near microphone), as the official DCASE 2026 baseline",
    "far": "far: channel 1 (right, far microphone)",
    "mean": "mean: mean of the near and far channels",
    "both": "both: channel 0 (near) and channel 1 (far) embedded separately, rows concatenated [near | far]",
}


def read_channel(spec: AudioSpec) -> int | None:
    """The channel index the front end decodes (None: mean downmix); ``both`` is split by :func:`channel_views`."""
    if spec.channel_policy in NEAR_FAR_CHANNEL:
        return NEAR_FAR_CHANNEL[spec.channel_policy]
    return spec.channel


def channel_views(spec: AudioSpec) -> list[AudioSpec]:
    """One single-channel spec per embedded channel: [near, far] for ``both``, else [spec]."""
    if spec.channel_policy != "both":
        return [spec]
    return [spec.model_copy(update={"channel_policy": p}) for p in ("near", "far")]


def frontend(spec: AudioSpec) -> dict[str, object]:
    desc = audio.frontend_description(spec.sample_rate, spec.clip_seconds, spec.clip_policy, spec.waveform_norm,
                                      read_channel(spec))
    if spec.channel_policy is not None:  # only stereo suites: the other suites' cache keys are unchanged
        desc["channels"] = spec.channels
        desc["channel_policy"] = _POLICY_TEXT[spec.channel_policy]
        if spec.channel_policy == "both":
            desc["downmix"] = "none (each channel embedded on its own)"
    return desc


def check_channels(path: Path, spec: AudioSpec) -> None:
    """A DataError naming ``path`` when its channel count is not the suite's ``audio.channels``."""
    if spec.channels is None:
        return
    try:
        found = sf.info(str(path)).channels
    except Exception:  # noqa: BLE001 — unreadable: audio.read_audio reports it, naming the file
        return
    if found == spec.channels:
        return
    if spec.channels == 2 and spec.channel_policy is not None:
        what = "2 channels (near/far stereo: left = near microphone, right = far microphone, as DCASE 2026)"
    elif spec.channels == 1:
        what = ("1 channel (mono, as the DCASE 2020–2025 releases; near/far stereo recordings belong to "
                "the dcase2026 suites)")
    else:
        what = f"{spec.channels} channels"
    raise DataError(f"{path}: has {found} channel(s); this suite expects {what}")


def load_for_encoder(path: Path, spec: AudioSpec, encoder_rate: int, length: int,
                     start: int = 0) -> tuple[np.ndarray, audio.AudioInfo]:
    """(windows, length) for the windows policy, else (length,)."""
    if spec.channel_policy == "both":
        raise ValueError("channel_policy 'both' is extracted per channel (extract.channel_views)")
    check_channels(path, spec)
    clip, info = audio.load_clip(path, spec.sample_rate, spec.clip_seconds, spec.clip_policy, read_channel(spec),
                                 start)
    clip = audio.normalise(clip, spec.waveform_norm)
    clip = audio.resample(clip, spec.sample_rate, encoder_rate)
    if spec.clip_policy == "windows":
        return audio.windows(clip, length), info
    return audio.cut_clip(clip, length), info


def _embed(encoder: Encoder, waves: list[np.ndarray], batch_size: int) -> np.ndarray:
    """One row per entry of ``waves``; a (windows, T) entry is embedded window by window and mean-pooled."""
    if all(w.ndim == 1 for w in waves):
        return np.asarray(encoder.embed(np.stack(waves).astype(np.float32)))
    flat = np.concatenate(waves).astype(np.float32)
    rows = np.concatenate([np.asarray(encoder.embed(flat[s:s + batch_size])) for s in range(0, len(flat), batch_size)])
    if rows.shape != (len(flat), encoder.embedding_dim):
        raise EncoderError(f"encoder {encoder.name!r} returned shape {rows.shape} for {len(flat)} windows; "
                           f"expected ({len(flat)}, {encoder.embedding_dim})")
    bounds = np.cumsum([0] + [len(w) for w in waves])
    return np.stack([rows[a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:])])


def extract(encoder: Encoder, clips: list[Clip], spec: AudioSpec, cache_root: Path | None,
            batch_size: int = 32, progress: bool = True, hashes: list[str] | None = None,
            ranks: Ranks | None = None) -> Extraction:
    """Embeddings of ``clips`` in order. With ``ranks`` of a multi-process run only the main rank's
    result holds every row; the other ranks' results hold their own share."""
    if spec.channel_policy == "both":
        return _extract_both(encoder, clips, spec, cache_root, batch_size, progress, hashes, ranks)
    t0 = time.perf_counter()
    ranks = ranks or Ranks(0, 1, torch.device("cpu"))
    if ranks.world > 1 and cache_root is None:
        raise EncoderError("extraction sharded over torchrun ranks passes embeddings through the cache; "
                           "drop --no-cache (or run a single process)")
    hashes = hashes if hashes is not None else hash_clips(clips, progress)
    policy = input_policy(encoder, spec)
    key_fields = {"encoder": identity(encoder), "frontend": frontend(spec), "input": policy}
    cache = EmbeddingCache(cache_root, key_fields)
    found = cache.lookup(hashes)
    todo = [i for i, h in enumerate(hashes) if h not in found]
    result = Extraction(np.zeros((len(clips), encoder.embedding_dim), np.float32), hashes,
                        len(clips) - len(todo), len(todo), 0.0, {**policy, "cache_key": cache.key})
    _fill(result, hashes, found)
    all_todo, todo = todo, todo[ranks.rank::ranks.world]
    bar = tqdm(total=len(todo), desc=f"embedding ({encoder.name})" + (f" rank {ranks.rank}/{ranks.world}"
               if ranks.world > 1 else ""), unit="clip", disable=not progress or not todo)
    pending_keys: list[str] = []
    pending_rows: list[np.ndarray] = []
    for start in range(0, len(todo), batch_size):
        idx = todo[start:start + batch_size]
        waves = []
        for i in idx:
            wave, info = load_for_encoder(clips[i].path, spec, encoder.sample_rate, int(policy["input_samples"]),
                                          getattr(clips[i], "start", 0))
            result.native_rates[info.sample_rate] = result.native_rates.get(info.sample_rate, 0) + 1
            result.channels[info.channels] = result.channels.get(info.channels, 0) + 1
            result.silent += int(not np.any(wave))
            if wave.ndim == 2:
                result.windows[len(wave)] = result.windows.get(len(wave), 0) + 1
            waves.append(wave)
        out = _embed(encoder, waves, batch_size)
        if out.shape != (len(idx), encoder.embedding_dim):
            raise EncoderError(f"encoder {encoder.name!r} returned shape {out.shape} for a batch of {len(idx)} "
                               f"clips; expected ({len(idx)}, {encoder.embedding_dim})")
        bad = [clips[i].relpath for i, row in zip(idx, out) if not np.isfinite(row).all()]
        if bad:
            raise EncoderError(f"encoder {encoder.name!r} produced NaN/Inf embeddings for {bad[:5]}")
        for i, row in zip(idx, out):
            result.embeddings[i] = row
            pending_keys.append(hashes[i])
            pending_rows.append(row)
        if len(pending_keys) >= SHARD_CLIPS:
            cache.store(pending_keys, np.stack(pending_rows))
            pending_keys, pending_rows = [], []
        bar.update(len(idx))
        faults.point("extract-batch")  # tests only (impact_bench/faults.py)
    bar.close()
    if pending_keys:
        cache.store(pending_keys, np.stack(pending_rows))
    if ranks.world > 1:
        distributed.barrier(ranks)
        if ranks.is_main:
            _collect_shards(result, cache, [hashes[i] for i in all_todo])
    result.notices.extend(cache.notices)
    if result.silent:
        result.notices.append(f"{result.silent} silent clips (normalised to zeros, not NaN)")
    result.seconds = time.perf_counter() - t0
    return result


def _extract_both(encoder: Encoder, clips: list[Clip], spec: AudioSpec, cache_root: Path | None, batch_size: int,
                  progress: bool, hashes: list[str] | None, ranks: Ranks | None) -> Extraction:
    """``both``: one extraction per channel (own cache key each), rows concatenated [near | far];
    ``computed``/``cached`` count channel embeddings (two per clip)."""
    hashes = hashes if hashes is not None else hash_clips(clips, progress)
    parts = [extract(encoder, clips, view, cache_root, batch_size, progress, hashes, ranks)
             for view in channel_views(spec)]
    near, far = parts
    policy = {**near.policy, "cache_key": "+".join(str(p.policy["cache_key"]) for p in parts),
              "channel_embeddings": {"near": [near.computed, near.cached], "far": [far.computed, far.cached]},
              "embedding_dim": 2 * encoder.embedding_dim}
    notices = list(dict.fromkeys(near.notices + far.notices))
    out = Extraction(np.concatenate([near.embeddings, far.embeddings], axis=1), hashes,
                     near.cached + far.cached, near.computed + far.computed, near.seconds + far.seconds, policy,
                     notices, near.native_rates or far.native_rates, near.channels or far.channels,
                     near.windows or far.windows, max(near.silent, far.silent))
    return out


def _fill(result: Extraction, hashes: list[str], found: dict[str, np.ndarray]) -> None:
    for i, h in enumerate(hashes):
        if h in found:
            result.embeddings[i] = found[h]


def _collect_shards(result: Extraction, cache: EmbeddingCache, wanted: list[str]) -> None:
    """Main rank, after the barrier: read the other ranks' rows back from the cache."""
    cache.reload()
    found = cache.lookup(wanted)
    missing = [h for h in wanted if h not in found]
    if missing:
        raise EncoderError(f"{len(missing)} embeddings computed by other ranks are not in the cache "
                           f"{cache.dir}; is it on a file system every rank can reach?")
    _fill(result, result.hashes, found)


def data_fingerprint(clips: list[Clip], hashes: list[str]) -> dict[str, object]:
    """File count + one hash over (relative path, label, content hash), order-independent."""
    rows = sorted(f"{c.relpath}\t{c.task}\t{h}" for c, h in zip(clips, hashes))
    return {"files": len(clips), "content_sha256": canonical_hash(rows)}
