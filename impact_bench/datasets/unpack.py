"""Unpack an archive into its suite folder, refusing any member that would land outside it.

Every member is checked before anything is written: absolute paths, drive letters, ``..``
components, symbolic and hard links and device files refuse the whole archive ("zip slip",
CVE-2018-1002200 class; tarfile's ``data`` filter, PEP 706, rejects the same things). Each member
is written to a temporary name and renamed, so an interrupted unpack never leaves a truncated file
under a real name; a file already there with the member's size is kept (a resumed unpack), one
with another size is the user's and is not overwritten.
"""
from __future__ import annotations

import os
import shutil
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterator

from impact_bench.errors import DataError

COPY_CHUNK = 1 << 20


class UnsafeArchiveError(DataError):
    """An archive member would be written outside the target folder (or is a link or device)."""


@dataclass(frozen=True)
class Member:
    name: str                   # as stored in the archive
    rel: str                    # where it goes, relative to the target ("" = skipped)
    size: int
    is_dir: bool
    open: Callable[[], IO[bytes]]


def safe_relpath(name: str, strip: int = 0) -> str:
    """The member's path under the target, or :class:`UnsafeArchiveError`; ``""`` when ``strip`` eats it."""
    raw = name.replace("\\", "/")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise UnsafeArchiveError(f"member {name!r} has an absolute path")
    parts = [p for p in PurePosixPath(raw).parts if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"member {name!r} climbs out of the target folder ('..')")
    return "/".join(parts[strip:])


def _zip_members(zf: zipfile.ZipFile, strip: int) -> Iterator[Member]:
    for info in zf.infolist():
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UnsafeArchiveError(f"member {info.filename!r} is a symbolic link")
        rel = safe_relpath(info.filename, strip)
        yield Member(info.filename, rel, info.file_size, info.is_dir(), lambda i=info: zf.open(i))


def _tar_members(tf: tarfile.TarFile, strip: int) -> Iterator[Member]:
    for info in tf.getmembers():
        if info.issym() or info.islnk():
            raise UnsafeArchiveError(f"member {info.name!r} is a link")
        if not (info.isfile() or info.isdir()):
            raise UnsafeArchiveError(f"member {info.name!r} is a device or special file")
        rel = safe_relpath(info.name, strip)

        def opener(i: tarfile.TarInfo = info) -> IO[bytes]:
            f = tf.extractfile(i)
            assert f is not None
            return f
        yield Member(info.name, rel, info.size, info.isdir(), opener)


def is_archive(path: Path) -> bool:
    return zipfile.is_zipfile(path) or (path.suffix in (".tar", ".tgz", ".gz", ".bz2", ".xz")
                                        and tarfile.is_tarfile(path))


def _check(members: list[Member], target: Path, archive: Path) -> None:
    root = target.resolve()
    for m in members:
        if m.rel and not (root / m.rel).resolve().is_relative_to(root):
            raise UnsafeArchiveError(f"{archive}: member {m.name!r} would land outside {target}")


def extract(archive: Path, target: Path, strip: int = 0, progress: bool = False) -> list[str]:
    """Unpack ``archive`` into ``target``; returns the files' paths relative to ``target``."""
    from tqdm.auto import tqdm

    archive, target = Path(archive), Path(target)
    opened: zipfile.ZipFile | tarfile.TarFile
    if zipfile.is_zipfile(archive):
        opened = zipfile.ZipFile(archive)
        listing = _zip_members
    elif tarfile.is_tarfile(archive):
        opened = tarfile.open(archive)
        listing = _tar_members  # type: ignore[assignment]
    else:
        raise DataError(f"{archive}: neither a zip nor a tar archive")
    with opened:
        try:
            members = list(listing(opened, strip))  # type: ignore[arg-type]
        except UnsafeArchiveError as exc:
            raise UnsafeArchiveError(f"{archive}: refused, nothing unpacked: {exc}") from exc
        _check(members, target, archive)
        target.mkdir(parents=True, exist_ok=True)
        files = [m for m in members if m.rel and not m.is_dir]
        written = []
        for m in tqdm(files, desc=f"unpack {archive.name}", unit="file", disable=not progress, leave=False):
            dest = target / m.rel
            if dest.is_file():
                if dest.stat().st_size == m.size:
                    written.append(m.rel)
                    continue
                raise DataError(f"{dest} exists and differs from {archive.name}:{m.name} (size "
                                f"{dest.stat().st_size} vs {m.size}); move it away and run again")
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".unpacking")
            with m.open() as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, COPY_CHUNK)
            os.replace(tmp, dest)
            written.append(m.rel)
        for m in members:
            if m.rel and m.is_dir:
                (target / m.rel).mkdir(parents=True, exist_ok=True)
    return written


def place(file: Path, target: Path, rel: str) -> str:
    """A downloaded file that is not an archive, moved to ``target/rel`` (checked like a member)."""
    rel = safe_relpath(rel)
    dest = target / rel
    _check([Member(rel, rel, 0, False, lambda: open(file, "rb"))], target, file)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(file, dest)
    return rel
