"""Resumable HTTP download with the checksum computed while the bytes arrive.

pooch verifies and caches but restarts a broken download from zero (its downloaders write to a fresh
temporary file each time). Here the bytes go to ``<part_dir>/<name>.part``; after a dropped
connection, or in a later run, the next request asks ``Range: bytes=<have>-`` and appends
(RFC 9110 §14). A server that ignores the range (200 instead of 206) is read from the start again.
The digest is updated in a second thread (hashlib releases the GIL on large buffers), so verifying
costs little wall time: no second pass over the file. :class:`ResumableDownloader` plugs the same
machinery into ``pooch.retrieve(..., downloader=...)``.
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from impact_bench.datasets.remote import TIMEOUT_S, USER_AGENT, DownloadError

CHUNK = 1 << 20
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError)


class _Interrupted(Exception):
    """The connection ended before the announced length."""


class ThreadedHash:
    """``hashlib`` object fed by a worker thread from a pool of reusable buffers: hashing overlaps the
    network reads, and no buffer is allocated per chunk."""

    def __init__(self, alg: str, buffers: int = 16, size: int = CHUNK) -> None:
        self._h = hashlib.new(alg)
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(buffers):
            self._free.put(bytearray(size))
        self._q: queue.Queue[tuple[bytes | bytearray, int] | None] = queue.Queue()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while (item := self._q.get()) is not None:
            block, n = item
            self._h.update(memoryview(block)[:n])
            if isinstance(block, bytearray):
                self._free.put(block)

    def buffer(self) -> bytearray:
        """An empty buffer from the pool (waits while the hasher still holds them all)."""
        return self._free.get()

    def submit(self, block: bytes | bytearray, n: int) -> None:
        """Hash ``block[:n]``; a pool buffer returns to the pool afterwards."""
        self._q.put((block, n))

    def update(self, block: bytes) -> None:
        self._q.put((block, len(block)))

    def hexdigest(self) -> str:
        self._q.put(None)
        self._t.join()
        return self._h.hexdigest()


def _hash_file(path: Path, h: Any) -> None:
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)


def _open(url: str, start: int) -> Any:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if start:
        headers["Range"] = f"bytes={start}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S)


def _remaining(resp: Any, start: int) -> tuple[int, int | None]:
    """(offset the body starts at, its length or None): 206 continues at ``start``, 200 restarts at 0."""
    length = resp.headers.get("Content-Length")
    length = int(length) if length and length.isdigit() else None
    if resp.status == 206:
        rng = resp.headers.get("Content-Range", "")  # "bytes 100-199/200"
        try:
            first = int(rng.split()[1].split("-")[0])
        except (IndexError, ValueError):
            first = -1
        if first != start:
            raise _Interrupted(f"server answered Content-Range {rng!r} to a request from byte {start}")
        return start, length
    return 0, length


def _stream(url: str, part: Path, size: int | None, alg: str, bar: Any) -> str:
    """One request appending to ``part``; returns the hex digest of the whole part file."""
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    try:
        resp = _open(url, have) if size is None or have < size else None
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left past `have`: the part is complete, or it is stale
            resp = None
            if size is not None and have != size:
                part.unlink()
                raise _Interrupted("server refused the range; restarting") from exc
        else:
            raise
    h: Any = hashlib.new(alg)
    if resp is None:
        _hash_file(part, h)
        return h.hexdigest()
    with resp:
        offset, length = _remaining(resp, have)
        if offset == 0 and have:
            have = 0  # the server ignored the range: read everything again
        if bar is not None:
            bar.reset(total=size if size is not None else (length + offset if length is not None else None))
            bar.update(have)
        h = ThreadedHash(alg)
        got = 0
        try:
            if have:
                _hash_file(part, h)
            with open(part, "ab" if have else "wb") as out:
                while True:
                    buf = h.buffer()
                    n = resp.readinto(buf)
                    if not n:
                        h.submit(buf, 0)
                        break
                    out.write(memoryview(buf)[:n])
                    h.submit(buf, n)
                    got += n
                    if bar is not None:
                        bar.update(n)
        finally:
            digest = h.hexdigest()  # also stops the hashing thread when the read failed
        if length is not None and got < length:
            raise _Interrupted(f"connection closed after {got} of {length} bytes")
    return digest


def fetch(url: str, dest: Path, *, size: int | None, checksum: str | None, part_dir: Path, progress: bool = True,
          retries: int = 5, backoff_s: float = 1.0, hint: str = "") -> str:
    """Download ``url`` to ``dest`` and return ``"<alg>:<hex>"``; resume a kept partial file.

    ``checksum`` ("md5:…", from the record's metadata) is verified; a mismatch discards the file and
    downloads it once more before giving up. Without a checksum the SHA-256 is returned for the manifest.
    """
    from tqdm.auto import tqdm

    alg, expected = (checksum.split(":", 1) if checksum else ("sha256", None))
    part_dir.mkdir(parents=True, exist_ok=True)
    part = part_dir / f"{dest.name}.part"
    info = part.with_name(part.name + ".json")
    ident = {"url": url, "size": size, "checksum": checksum}
    try:
        if part.exists() and json.loads(info.read_text()) != ident:
            part.unlink()  # a partial file of another version of this file
    except (OSError, ValueError):
        part.unlink(missing_ok=True)
    info.write_text(json.dumps(ident))
    mismatches, failures, last = 0, 0, ""
    with tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name, disable=not progress,
              leave=False) as bar:
        while True:
            try:
                digest = _stream(url, part, size, alg, bar)
            except urllib.error.HTTPError as exc:
                if exc.code in (404, 410, 401, 403):
                    raise DownloadError(f"{url} answered HTTP {exc.code} ({exc.reason}). {hint}".strip()) from exc
                last = f"HTTP {exc.code}"
            except (_Interrupted, *_NETWORK_ERRORS) as exc:
                if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
                    raise DownloadError(f"cannot write {part} ({exc.strerror}); the partial file is kept: free "
                                        "space or choose another --out, then run the same command again") from exc
                last = str(getattr(exc, "reason", exc)) or type(exc).__name__
            else:
                if expected is None or digest == expected.lower():
                    os.replace(part, dest)
                    info.unlink(missing_ok=True)
                    return f"{alg}:{digest}"
                part.unlink(missing_ok=True)
                mismatches += 1
                if mismatches > 1:
                    info.unlink(missing_ok=True)
                    raise DownloadError(f"{url}: {alg} checksum {digest} twice differs from the record's {expected}; "
                                        "the file was discarded (a broken mirror or a changed record?)")
                continue
            failures += 1
            if failures > retries:
                have = part.stat().st_size if part.exists() else 0
                kept = (f"; the partial file {part} ({have} of {size if size is not None else '?'} bytes) is kept: "
                        "run the same command again to resume") if have else ""
                raise DownloadError(f"download of {url} failed ({last}){kept}. {hint}".strip())
            time.sleep(backoff_s * failures)


class ResumableDownloader:
    """A pooch downloader (``pooch.retrieve(url, known_hash, downloader=ResumableDownloader())``) that keeps
    the partial file under ``part_dir`` between calls and resumes it with a Range request."""

    def __init__(self, part_dir: Path | None = None, progressbar: bool = False, retries: int = 5,
                 backoff_s: float = 1.0) -> None:
        self.part_dir, self.progressbar, self.retries, self.backoff_s = part_dir, progressbar, retries, backoff_s

    def __call__(self, url: str, output_file: str | Any, pooch: Any = None, check_only: bool = False) -> bool | None:
        if check_only:
            try:
                req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": USER_AGENT})
                with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
                    return resp.status < 400
            except _NETWORK_ERRORS:
                return False
        out = Path(output_file)
        part_dir = self.part_dir or out.parent
        # pooch hands a fresh temporary name each call: key the partial file on the URL instead
        key = Path(hashlib.sha256(url.encode()).hexdigest()[:20])
        fetch(url, part_dir / key, size=None, checksum=None, part_dir=part_dir, progress=self.progressbar,
              retries=self.retries, backoff_s=self.backoff_s)
        os.replace(part_dir / key, out)  # pooch then checks its known_hash and moves the file into place
        return None
