"""Where each adapter's official weights are looked for, and what was found.

Every adapter with downloadable weights has a :class:`WeightsManifest` on its encoder card
(``impact_bench.encoders.cards``): the official file names, where they are published, the licence
and, where known, sha256 digests. Without ``--checkpoint`` a file is looked for, in order, at the
manifest's environment variable (a file, or a folder holding one of the expected names), in the
release checkout when the manifest names one, and in ``<cache>/weights/<encoder>/`` (cache:
``$IMPACT_BENCH_CACHE`` or ``~/.cache/impact-bench``). Nothing is downloaded: the weights live on
sites users reach themselves.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from impact_bench.encoders.cards import CARDS, LISTEN_ROOT_ENV, WeightsManifest

__all__ = ["LISTEN_ROOT_ENV", "MANIFESTS", "Lookup", "WeightsManifest", "locate"]

# A view of the encoder cards (impact_bench/encoders/cards.py), where the manifests are written.
MANIFESTS: dict[str, WeightsManifest] = {name: c.weights for name, c in CARDS.items() if c.weights is not None}


@dataclass
class Lookup:
    manifest: WeightsManifest
    found: Path | None
    how: str                         # "--checkpoint", the env var, "cache", or "" when nothing was found
    searched: list[str]


def _in_folder(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def locate(encoder: str, checkpoint: str | Path | None = None) -> Lookup:
    m = MANIFESTS[encoder]
    searched: list[str] = []
    if checkpoint is not None:
        return Lookup(m, Path(checkpoint), "--checkpoint", [str(checkpoint)])
    env = os.environ.get(m.env_var)
    if not env:
        searched.append(f"${m.env_var} (unset)")
    else:
        p = Path(env)
        hit = p if p.is_file() else (_in_folder(p, m.files) if p.is_dir() else None)
        searched.append(f"${m.env_var}={env}")
        if hit:
            return Lookup(m, hit, f"${m.env_var}", searched)
    if m.release_dir is not None:
        var, sub = m.release_dir
        root = os.environ.get(var)
        searched.append(f"${var}/{sub} " + (f"({Path(root) / sub})" if root else "(unset)"))
        hit = _in_folder(Path(root) / sub, m.files) if root else None
        if hit:
            return Lookup(m, hit, f"${var}", searched)
    searched.append(str(m.cache_dir()))
    hit = _in_folder(m.cache_dir(), m.files)
    if hit is None and m.note:
        searched.append(f"note: {m.files[0]} is {m.note}")
    return Lookup(m, hit, "cache" if hit else "", searched)
