"""Read each record's own metadata: download URL, size, checksum and licence of every file.

- Zenodo REST API, ``GET /api/records/<id>``: ``files[]`` with ``key``, ``size``, ``checksum``
  (``"md5:<hex>"``) and ``links.self``; the licence in ``metadata.license.id`` (developers.zenodo.org).
- Dataverse native API, ``GET /api/datasets/:persistentId/?persistentId=doi:…``:
  ``data.latestVersion.files[]`` with ``label``, ``directoryLabel`` and ``dataFile.{id, filesize,
  checksum.{type,value}}``, downloaded from ``/api/access/datafile/<id>``; the licence in
  ``latestVersion.license`` (Dataverse ≥ 5.10) or ``termsOfUse`` (guides.dataverse.org, Native API).
- GitHub archives publish no checksum: the SHA-256 of the first download is recorded in the manifest
  and later runs are checked against it.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from impact_bench.datasets.sources import DATAVERSE, GITHUB, ZENODO, Archive, SuiteSource, base_url
from impact_bench.errors import DataError

TIMEOUT_S = 30.0
USER_AGENT = "impact-bench (https://github.com/impact-bench; data get)"
LICENCE_NAMES = {"cc-by-4.0": "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
                 "cc-by-sa-4.0": "CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/)",
                 "cc-by-nc-sa-4.0": "CC BY-NC-SA 4.0 (https://creativecommons.org/licenses/by-nc-sa/4.0/)",
                 "cc0-1.0": "CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/)"}
HASH_NAMES = {"md5": "md5", "sha-1": "sha1", "sha1": "sha1", "sha-256": "sha256", "sha256": "sha256",
              "sha-512": "sha512", "sha512": "sha512"}


class DownloadError(DataError):
    """A record or file could not be listed, fetched or verified."""


@dataclass(frozen=True)
class RemoteFile:
    archive: Archive
    url: str
    size: int | None          # None: the host does not say (GitHub archives)
    checksum: str | None      # "<alg>:<hex>" as pooch spells it; None: the host publishes none
    licence: str
    record_url: str           # the record's landing page / API address, shown with the licence


def _get_json(url: str, manual: str) -> dict:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url} answered HTTP {exc.code} ({exc.reason}); to install by hand, lay the data "
                            f"out as: {manual}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"cannot reach {url} ({reason}): offline? To install by hand, download the files "
                            f"yourself and lay them out as: {manual}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DownloadError(f"{url} did not answer with JSON ({exc}); is the base URL right?") from exc


def _rebase(link: str, host: str) -> str:
    """A metadata link under the host's public address, moved to the configured mirror (if any)."""
    canonical, configured = {ZENODO: "https://zenodo.org", DATAVERSE: "https://dataverse.harvard.edu"}[host], \
        base_url(host)
    return configured + link[len(canonical):] if link.startswith(canonical) and configured != canonical else link


def zenodo_licence(meta: dict) -> str:
    lic = (meta.get("metadata") or {}).get("license")
    ident = lic.get("id") if isinstance(lic, dict) else lic
    if not ident:
        return "not stated in the record metadata"
    return LICENCE_NAMES.get(str(ident).lower(), str(ident))


def zenodo_files(record: str, archives: list[Archive], manual: str) -> list[RemoteFile]:
    url = f"{base_url(ZENODO)}/api/records/{record}"
    meta = _get_json(url, manual)
    listed = {f.get("key") or f.get("filename"): f for f in meta.get("files") or []}
    licence = zenodo_licence(meta)
    out = []
    for a in archives:
        f = listed.get(a.name)
        if f is None:
            raise DownloadError(f"Zenodo record {record} ({url}) lists no file {a.name!r} (it lists "
                                f"{', '.join(sorted(k for k in listed if k)) or 'nothing'})")
        checksum = str(f.get("checksum") or "")
        if ":" not in checksum:
            raise DownloadError(f"{url}: file {a.name!r} has no 'alg:hex' checksum in the record metadata "
                                f"(got {checksum!r})")
        link = (f.get("links") or {}).get("self") or f"{base_url(ZENODO)}/records/{record}/files/{a.name}"
        out.append(RemoteFile(a, _rebase(link, ZENODO), int(f["size"]) if f.get("size") is not None else None,
                              checksum.lower(), licence, url))
    return out


def dataverse_licence(version: dict) -> str:
    lic = version.get("license")
    if isinstance(lic, dict) and lic.get("name"):
        return f"{lic['name']} ({lic['uri']})" if lic.get("uri") else str(lic["name"])
    if isinstance(lic, str) and lic:
        return lic
    return str(version.get("termsOfUse") or "not stated in the dataset metadata")


def dataverse_files(source: SuiteSource, manual: str) -> list[RemoteFile]:
    """Every file of the dataset's latest version; the ``pretrain`` set is the files with 'pretrain' in their path."""
    doi = source.records[0]
    url = f"{base_url(DATAVERSE)}/api/datasets/:persistentId/?persistentId={urllib.parse.quote(doi, safe=':/')}"
    meta = _get_json(url, manual)
    version = (meta.get("data") or {}).get("latestVersion") or {}
    licence = dataverse_licence(version)
    out = []
    for f in version.get("files") or []:
        df = f.get("dataFile") or {}
        name = "/".join(p for p in (f.get("directoryLabel"), f.get("label") or df.get("filename")) if p)
        if f.get("restricted"):
            raise DownloadError(f"{url}: file {name!r} is restricted; request access on the dataset page, "
                                f"then lay the data out as: {manual}")
        ck = df.get("checksum") or ({"type": "MD5", "value": df["md5"]} if df.get("md5") else None)
        alg = HASH_NAMES.get(str((ck or {}).get("type", "")).lower())
        if not ck or not alg:
            raise DownloadError(f"{url}: file {name!r} has no checksum this tool can verify (got {ck!r})")
        link = f"{base_url(DATAVERSE)}/api/access/datafile/{df['id']}"
        size = df.get("filesize")
        if df.get("originalFileFormat"):  # ingested tabular file: fetch the file as deposited
            link, size = link + "?format=original", df.get("originalFileSize", size)
        set_name = "pretrain" if "pretrain" in name.lower() else "downstream"
        out.append(RemoteFile(Archive(DATAVERSE, doi, name, set_name, None, ""), link,
                              int(size) if size is not None else None, f"{alg}:{ck['value'].lower()}", licence, url))
    if not out:
        raise DownloadError(f"{url}: the dataset lists no files")
    return out


def list_files(source: SuiteSource, archives: list[Archive]) -> list[RemoteFile]:
    """Remote URL, size, checksum and licence of each selected archive (Dataverse: of every file)."""
    if source.host == ZENODO:
        by_record: dict[str, list[Archive]] = {}
        for a in archives:
            by_record.setdefault(a.record, []).append(a)
        return [f for rec, group in by_record.items() for f in zenodo_files(rec, group, source.manual_layout)]
    if source.host == DATAVERSE:
        return dataverse_files(source, source.manual_layout)
    return [RemoteFile(a, f"{base_url(GITHUB)}/{a.record}/archive/{a.name}", None, None,
                       source.licence or "not stated", f"{base_url(GITHUB)}/{a.record}") for a in archives]
