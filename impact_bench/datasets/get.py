"""``data get``: plan (record metadata) → licences → disk check → fetch → verify → unpack → manifest.

Files go through ``<out>/.downloads/`` (partial files resume there); an archive is deleted once
unpacked unless ``keep_archives``. Each finished file is written to the manifest at once, so an
interrupted run loses at most the file in flight, and that one resumes from its partial bytes.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from impact_bench.datasets import manifest
from impact_bench.datasets.download import fetch
from impact_bench.datasets.remote import DownloadError, RemoteFile, list_files
from impact_bench.datasets.sources import DATAVERSE, SuiteSource, select, source_for
from impact_bench.datasets.unpack import extract, is_archive, place
from impact_bench.errors import DataError

DOWNLOADS = ".downloads"
LOCK = ".impact-bench-data.lock"
UNPACK_FACTOR = 1.05  # audio barely compresses: an archive unpacks to about its own size (+ slack)


@dataclass
class Plan:
    source: SuiteSource
    out: Path
    files: list[RemoteFile]
    pending: list[RemoteFile] = field(default_factory=list)

    @property
    def pending_bytes(self) -> int:
        return sum(f.size or 0 for f in self.pending)

    def licences(self) -> list[str]:
        """One line per record: where it is and the licence its metadata states."""
        seen: dict[str, str] = {}
        for f in self.files:
            seen.setdefault(f.record_url, f.licence)
        return [f"{url}: {lic}" for url, lic in seen.items()]


def _present(entry: dict[str, Any] | None, out: Path, f: RemoteFile) -> bool:
    if not manifest.present(entry, out, f.checksum) or entry is None:
        return False
    if f.checksum is None and entry.get("url") != f.url:  # GitHub: same pinned archive
        return False
    kept = entry.get("kept")
    if kept:  # a file kept in its downloaded form must still be the one verified
        p = Path(kept["path"])
        return p.is_file() and p.stat().st_size == kept["size"] and p.stat().st_mtime_ns == kept["mtime_ns"]
    return True


def make_plan(suite: str, out: Path, sets: tuple[str, ...] = (), machines: tuple[str, ...] = ()) -> Plan:
    """Read the records' metadata and compare with the manifest under ``out``: what is left to fetch."""
    source = source_for(suite)
    if source.host == DATAVERSE:
        select(source, (), sets, machines)  # validates --sets / --machines
        wanted = sets or source.default_sets
        files = [f for f in list_files(source, []) if f.archive.set in wanted]
    else:
        files = list_files(source, select(source, source.archives, sets, machines))
    out = Path(out)
    done = manifest.read(out)["files"] if out.is_dir() else {}
    pending = [f for f in files if not _present(done.get(manifest.key(f.archive.record, f.archive.name)), out, f)]
    return Plan(source, out, files, pending)


def _existing_root(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(plan: Plan) -> None:
    """Refuse to start when the free space under ``out`` cannot hold the downloads and their unpacked files."""
    parts = plan.out / DOWNLOADS
    need = 0.0
    for f in plan.pending:
        if f.size is None:
            continue
        part = parts / f"{Path(f.archive.name).name}.part"
        have = part.stat().st_size if part.exists() else 0
        need += (f.size - have) + (f.size * UNPACK_FACTOR if is_zip_name(f.archive.name) else 0)
    free = shutil.disk_usage(_existing_root(plan.out)).free
    if need > free:
        raise DataError(f"not enough disk space under {plan.out}: the downloads and their unpacked files need "
                        f"{need / 1e9:.1f} GB, {free / 1e9:.1f} GB are free (choose another --out, or fewer "
                        "--sets/--machines)")


def is_zip_name(name: str) -> bool:
    return name.lower().endswith((".zip", ".tar", ".tar.gz", ".tgz"))


def _verified_copy(path: Path, f: RemoteFile, log: Callable[[str], None]) -> str | None:
    """The checksum of an already-downloaded copy when it still matches the record; else delete it."""
    import pooch  # hashing of files already on disk: pooch.file_hash (chunked, any hashlib algorithm)

    alg = f.checksum.split(":", 1)[0] if f.checksum else "sha256"
    digest = f"{alg}:{pooch.file_hash(str(path), alg=alg)}"
    if f.checksum is None or digest == f.checksum:
        return digest
    log(f"{path}: {alg} {digest.split(':')[1]} differs from the record's {f.checksum.split(':')[1]}: corrupt, fetching again")
    path.unlink()
    return None


def _fetch_one(plan: Plan, f: RemoteFile, entry: dict[str, Any] | None, progress: bool, retries: int,
               backoff_s: float, log: Callable[[str], None]) -> tuple[Path, str]:
    downloads = plan.out / DOWNLOADS
    local = downloads / Path(f.archive.name).name
    candidates = [Path(entry["kept"]["path"])] if entry and entry.get("kept") else []
    for cand in candidates + [local]:
        if cand.is_file():
            digest = _verified_copy(cand, f, log)
            if digest:
                return cand, digest
    hint = f"To install by hand, lay the data out as: {plan.source.manual_layout}"
    digest = fetch(f.url, local, size=f.size, checksum=f.checksum, part_dir=downloads, progress=progress,
                   retries=retries, backoff_s=backoff_s, hint=hint)
    return local, digest


def run(plan: Plan, progress: bool = True, keep_archives: bool = False, retries: int = 5, backoff_s: float = 1.0,
        log: Callable[[str], None] = print) -> dict[str, int]:
    """Fetch, verify and unpack every pending file; returns counts (fetched, present, files unpacked)."""
    from filelock import FileLock, Timeout

    plan.out.mkdir(parents=True, exist_ok=True)
    try:
        lock = FileLock(str(plan.out / LOCK), timeout=1)
        lock.acquire()
    except Timeout as exc:
        raise DataError(f"another `impact-bench data get` is writing into {plan.out}; wait for it to finish") from exc
    try:
        data = manifest.read(plan.out)
        counts = {"fetched": 0, "present": len(plan.files) - len(plan.pending), "unpacked": 0}
        for i, f in enumerate(plan.pending, 1):
            k = manifest.key(f.archive.record, f.archive.name)
            log(f"[{i}/{len(plan.pending)}] {f.archive.name} ({human_size(f.size)}) from {f.url}")
            path, digest = _fetch_one(plan, f, data["files"].get(k), progress, retries, backoff_s, log)
            counts["fetched"] += 1
            size = path.stat().st_size
            target = plan.out / f.archive.dest
            if is_archive(path):
                files = extract(path, target, f.archive.strip, progress=progress)
                kept = path if keep_archives else None
                if not keep_archives:
                    path.unlink()
            else:
                files = [place(path, target, f.archive.name)]
                kept = target / files[0]
            rel = [f"{f.archive.dest}/{x}" if f.archive.dest else x for x in files]
            counts["unpacked"] += len(rel)
            e = manifest.entry(f.url, size, digest, f.licence, f.record_url, f.archive.dest, rel, kept)
            if kept:
                st = kept.stat()
                e["kept"] = {"path": str(kept.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            data["files"][k] = e
            data["suite_source"] = plan.source.key
            data["citation"] = plan.source.citation
            manifest.write(plan.out, data)
        return counts
    finally:
        lock.release()


def human_size(n: int | None) -> str:
    if n is None:
        return "size unknown"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


def describe(plan: Plan) -> list[str]:
    """What a run would do: counts, bytes, and each record's licence (shown before any download)."""
    lines = [f"{plan.source.key}: {len(plan.files)} file(s) selected, {len(plan.files) - len(plan.pending)} already "
             f"present and verified, {len(plan.pending)} to fetch ({human_size(plan.pending_bytes)}"
             f"{' + files of unknown size' if any(f.size is None for f in plan.pending) else ''}) into {plan.out}",
             f"cite: {plan.source.citation}",
             "licences (from each record's metadata):"]
    lines += [f"  {line}" for line in plan.licences()]
    return lines


__all__ = ["Plan", "make_plan", "check_disk", "run", "describe", "DownloadError"]
