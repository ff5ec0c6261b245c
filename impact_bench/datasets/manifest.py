"""``<out>/impact-bench-data.json``: one entry per fetched file — URL, size, checksum, date, licence, and
where it was unpacked — so a later run knows what is verified and present without fetching it again."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from impact_bench.errors import DataError

MANIFEST_NAME = "impact-bench-data.json"
FORMAT = 1


def key(record: str, name: str) -> str:
    return f"{record}/{name}"


def read(out: Path) -> dict[str, Any]:
    path = Path(out) / MANIFEST_NAME
    if not path.exists():
        return {"format": FORMAT, "files": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable download manifest ({exc}); move it away to start afresh") from exc
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise DataError(f"{path}: not an impact-bench download manifest (no 'files' mapping)")
    return data


def write(out: Path, data: dict[str, Any]) -> Path:
    """Atomic rewrite (temporary file + rename): an interrupted run never leaves half a manifest."""
    path = Path(out) / MANIFEST_NAME
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def present(entry: dict[str, Any] | None, out: Path, checksum: str | None) -> bool:
    """The entry's file was verified and unpacked, its checksum is still the record's, and its files are there."""
    if not entry or not entry.get("unpacked"):
        return False
    if checksum is not None and entry.get("checksum") != checksum:
        return False
    samples = entry.get("sample_files") or []
    return all((Path(out) / s).is_file() for s in samples)


def entry(url: str, size: int, checksum: str, licence: str, record_url: str, dest: str,
          files: list[str], kept: Path | None) -> dict[str, Any]:
    samples = sorted({files[0], files[len(files) // 2], files[-1]}) if files else []
    return {"url": url, "size": size, "checksum": checksum, "date": now(), "licence": licence, "record": record_url,
            "unpacked_into": dest or ".", "files": len(files), "sample_files": samples, "unpacked": True,
            "kept_archive": str(kept) if kept else None}
