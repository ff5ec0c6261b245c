"""On-disk embedding cache.

Key: sha256 over (encoder name, version, checkpoint sha256, encoder config, preprocessing) — the
*encoder key* — plus the sha256 of each clip's file bytes. Embeddings live in shards
``<root>/<encoder key>/shard-*.npz`` (arrays ``keys``, ``embeddings``), each written to a temp
file and renamed, so an interrupted extraction keeps every finished shard and never leaves a
half-written one. ``meta.json`` beside the shards spells out the key fields for humans.
Default root: ``$IMPACT_BENCH_CACHE`` or ``~/.cache/impact-bench``.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported where shards are read/written: default_cache_root & co. stay cheap
    import numpy as np

CACHE_ENV = "IMPACT_BENCH_CACHE"


def default_cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "impact-bench")


def canonical_hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class EmbeddingCache:
    def __init__(self, root: Path | None, key_fields: dict[str, Any]) -> None:
        self.enabled = root is not None
        self.key = canonical_hash(key_fields)
        self.dir = (Path(root) / self.key) if root is not None else None
        self._index: dict[str, np.ndarray] | None = None
        if self.dir is not None:
            meta = self.dir / "meta.json"
            if not meta.exists():
                atomic_write_bytes(meta, json.dumps(key_fields, indent=2, sort_keys=True, default=str).encode())

    def _load(self) -> dict[str, np.ndarray]:
        if self._index is None:
            import numpy as np

            self._index = {}
            if self.dir is not None and self.dir.is_dir():
                for shard in sorted(self.dir.glob("shard-*.npz")):
                    try:
                        with np.load(shard, allow_pickle=False) as z:
                            for k, e in zip(z["keys"], z["embeddings"]):
                                self._index[str(k)] = e
                    except (OSError, ValueError, KeyError):
                        continue  # a damaged shard is only a cache miss; it is rewritten below
        return self._index

    def reload(self) -> None:
        """Forget the in-memory index, so shards other processes wrote since are read."""
        self._index = None

    def lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        index = self._load()
        return {k: index[k] for k in keys if k in index}

    def store(self, keys: list[str], embeddings: np.ndarray) -> None:
        index = self._load()
        for k, e in zip(keys, embeddings):
            index[k] = e
        if self.dir is None or not keys:
            return

        import numpy as np

        buf = io.BytesIO()
        np.savez(buf, keys=np.array(keys), embeddings=np.asarray(embeddings, dtype=np.float32))
        atomic_write_bytes(self.dir / f"shard-{uuid.uuid4().hex}.npz", buf.getvalue())
