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
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from impact_bench.errors import DataError, ImpactBenchError

if TYPE_CHECKING:  # numpy is imported where shards are read/written: default_cache_root & co. stay cheap
    import numpy as np

CACHE_ENV = "IMPACT_BENCH_CACHE"
STALE_TMP_S = 6 * 3600  # a shard write takes seconds; a temp file this old was left by a killed run


def default_cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "impact-bench")


def canonical_hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """The file's sha256; an unreadable file is a DataError naming it (this is the first read of every clip)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc}); check the file's permissions and the disk") \
            from None
    return h.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Temp file + rename; the file gets the permissions an ordinary write would (0666 less the umask),
    not mkstemp's 0600."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise WriteError(f"cannot write {path} ({exc.strerror or exc}); is the folder writable?") from None
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # ENOSPC, EDQUOT, EIO …: which file, how much
            raise WriteError(f"cannot write {path} ({exc.strerror or exc}; {len(data) / 1000:.1f} kB needed)") \
                from None
        raise


class WriteError(ImpactBenchError):
    """A file could not be written (disk full, quota, permissions): names the file and the size."""


def _digest(keys: "np.ndarray", rows: "np.ndarray") -> str:
    """Checksum of a shard's contents, stored in the shard and verified on every read."""
    import numpy as np
    h = hashlib.sha256()
    h.update("\n".join(map(str, keys)).encode())
    h.update(np.ascontiguousarray(rows, dtype=np.float32).tobytes())
    return h.hexdigest()


class EmbeddingCache:
    def __init__(self, root: Path | None, key_fields: dict[str, Any]) -> None:
        self.enabled = root is not None
        self.key = canonical_hash(key_fields)
        self.dir = (Path(root) / self.key) if root is not None else None
        self._index: dict[str, np.ndarray] | None = None
        self.notices: list[str] = []
        if self.dir is not None:
            meta = self.dir / "meta.json"
            if not meta.exists():
                atomic_write_bytes(meta, json.dumps(key_fields, indent=2, sort_keys=True, default=str).encode())
            self._sweep_stale_temp_files()

    def _sweep_stale_temp_files(self, age_s: float = STALE_TMP_S) -> None:
        """Temp files of shard writes a kill interrupted. Only old ones: another process may be writing one now."""
        now = time.time()
        for tmp in self.dir.glob(".shard-*.tmp"):
            try:
                if now - tmp.stat().st_mtime > age_s:
                    tmp.unlink()
            except OSError:
                pass  # gone already, or not ours to remove

    def _load(self) -> dict[str, np.ndarray]:
        if self._index is None:
            import numpy as np

            self._index = {}
            if self.dir is not None and self.dir.is_dir():
                for shard in sorted(self.dir.glob("shard-*.npz")):
                    try:
                        with np.load(shard, allow_pickle=False) as z:
                            keys, rows = z["keys"], z["embeddings"]
                            if "sha256" in z.files and str(z["sha256"]) != _digest(keys, rows):
                                raise ValueError("checksum mismatch")
                    except Exception as exc:  # BadZipFile, EOFError, truncated arrays, a wrong checksum …
                        self._set_aside(shard, exc)  # only a cache miss: its clips are recomputed
                        continue
                    for k, e in zip(keys, rows):
                        self._index[str(k)] = e
        return self._index

    def _set_aside(self, shard: Path, exc: BaseException) -> None:
        """Report a damaged shard once, by name, and move it out of the way (``*.damaged``)."""
        target = shard.with_name(shard.name + ".damaged")
        try:
            shard.replace(target)
        except OSError:
            target = shard
        self.notices.append(f"damaged cache shard {shard} ({type(exc).__name__}: {exc}); moved to {target.name}, "
                            f"its clips are recomputed")

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
        keys_arr, rows = np.array(keys), np.asarray(embeddings, dtype=np.float32)
        np.savez(buf, keys=keys_arr, embeddings=rows, sha256=np.array(_digest(keys_arr, rows)))
        atomic_write_bytes(self.dir / f"shard-{uuid.uuid4().hex}.npz", buf.getvalue())
