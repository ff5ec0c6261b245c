"""Pretraining clips, streamed: a folder of recordings → consecutive 1-s, 48 kHz mono clips.

DINOS release: ``DINOS_Pretrain/<category>/**`` (any nesting; the first path component is the
category). Any other folder of audio works the same way (files directly in it form the category
``.``). Per file (authors' pretraining dataset, hanprd/DINOS src/pipelines/EAT_pretraining.py):
ceil(duration) consecutive 1-s clips, the last zero-padded; files shorter than 1 s are skipped;
resampled to 48 kHz; channels averaged. Only file headers are read up front; each clip reads just
its own second of audio.

Balanced sampling (paper §4.1: 1,851 recordings per category): ``balance="files"`` keeps the same
number of files from every category (the smallest category's count, chosen by seed).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import Dataset

from impact_bench import audio
from impact_bench.errors import DataError
from impact_bench.impact.objective import keep_indices

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"}
PRETRAIN_DIR = "DINOS_Pretrain"


@dataclass(frozen=True)
class Recording:
    path: Path
    category: str
    frames: int
    sample_rate: int

    @property
    def clips(self) -> int:
        return math.ceil(self.frames / self.sample_rate)


@dataclass
class PretrainIndex:
    root: Path
    recordings: list[Recording]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    dropped_for_balance: int = 0

    def __post_init__(self) -> None:
        self.offsets = np.cumsum([0] + [r.clips for r in self.recordings])

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def locate(self, i: int) -> tuple[Recording, int]:
        k = int(np.searchsorted(self.offsets, i, side="right") - 1)
        return self.recordings[k], i - int(self.offsets[k])

    def summary(self) -> dict[str, object]:
        per_cat: dict[str, list[int]] = {}
        for r in self.recordings:
            per_cat.setdefault(r.category, [0, 0])
            per_cat[r.category][0] += 1
            per_cat[r.category][1] += r.clips
        return {"root": str(self.root), "recordings": len(self.recordings), "clips": len(self),
                "hours": round(len(self) / 3600, 3), "skipped": len(self.skipped),
                "dropped_for_balance": self.dropped_for_balance,
                "categories": {c: {"recordings": n, "clips": k} for c, (n, k) in sorted(per_cat.items())}}


def pretrain_root(data: Path) -> Path:
    data = Path(data)
    if not data.is_dir():
        raise DataError(f"{data}: pretraining data folder does not exist")
    return data / PRETRAIN_DIR if (data / PRETRAIN_DIR).is_dir() else data


def scan(data: Path, balance: str = "files", seed: int = 0) -> PretrainIndex:
    """Index every readable recording ≥ 1 s under ``data``; unreadable/short files are listed in ``skipped``."""
    root = pretrain_root(data)
    recs: list[Recording] = []
    skipped: list[tuple[str, str]] = []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()):
        rel = path.relative_to(root)
        category = rel.parts[0] if len(rel.parts) > 1 else "."
        try:
            info = sf.info(str(path))
        except Exception as exc:  # libsndfile raises its own error types
            skipped.append((str(rel), f"unreadable: {exc}"))
            continue
        if info.frames < info.samplerate:
            skipped.append((str(rel), f"shorter than 1 s ({info.frames / info.samplerate:.3f} s)"))
            continue
        recs.append(Recording(path, category, int(info.frames), int(info.samplerate)))
    if not recs:
        raise DataError(f"{root}: no readable audio of at least 1 s (looked for {sorted(AUDIO_SUFFIXES)}; "
                        f"{len(skipped)} file(s) skipped)")
    dropped = 0
    if balance == "files":
        by_cat: dict[str, list[Recording]] = {}
        for r in recs:
            by_cat.setdefault(r.category, []).append(r)
        n = min(len(v) for v in by_cat.values())
        rng = np.random.default_rng(seed)
        kept = []
        for cat in sorted(by_cat):
            items = by_cat[cat]
            kept += [items[i] for i in sorted(rng.permutation(len(items))[:n])]
        dropped = len(recs) - len(kept)
        recs = kept
    elif balance != "none":
        raise DataError(f"balance must be 'files' or 'none', got {balance!r}")
    return PretrainIndex(root, recs, skipped, dropped)


class PretrainClips(Dataset):
    """Item i → (waveform (48000,) float32, kept token indices (clones, num_keep) int64).

    Masks come from a generator seeded by (seed, epoch, i): the same clip gets the same masks in
    an epoch whatever the number of processes or workers, so DDP runs follow single-process ones."""

    def __init__(self, index: PretrainIndex, sample_rate: int, clip_samples: int, grid: int, num_keep: int,
                 clones: int, block: int, seed: int) -> None:
        self.index, self.sample_rate, self.clip_samples = index, sample_rate, clip_samples
        self.grid, self.num_keep, self.clones, self.block, self.seed = grid, num_keep, clones, block, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.index)

    def read(self, i: int) -> np.ndarray:
        rec, c = self.index.locate(i)
        start = c * rec.sample_rate
        try:
            x, sr = sf.read(str(rec.path), start=start, stop=min(start + rec.sample_rate, rec.frames),
                            dtype="float32", always_2d=True)
        except Exception as exc:
            raise DataError(f"{rec.path}: reading second {c} failed: {exc}") from exc
        mono = x.mean(axis=1)
        mono = audio.resample(mono, sr, self.sample_rate)
        return audio.cut_clip(mono, self.clip_samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, i])
        keep = keep_indices(self.grid, self.num_keep, self.clones, self.block, rng)
        return torch.from_numpy(np.ascontiguousarray(self.read(i))), torch.from_numpy(keep)
