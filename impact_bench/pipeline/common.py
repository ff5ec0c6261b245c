"""The prologue and epilogue every run shares, whatever the suite's kind.

Prologue: options checked → encoder factory → data root → index (``readers``) → encoder → label and
results path → clip hashes → data fingerprint → run key → existing-file check → partial folder.
Epilogue: the results header (encoder, suite, coverage, options, extraction, provenance), validation
through the results models, atomic write, partial folder removed.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from impact_bench import audio_notices, faults, readers
from impact_bench.cache import atomic_write_bytes, canonical_hash, default_cache_root
from impact_bench.distributed import Ranks
from impact_bench.encoders.catalog import build_encoder, resolve_factory
from impact_bench.encoders.protocol import Encoder, describe, identity
from impact_bench.errors import DataError, ResultsError
from impact_bench.extract import Extraction, data_fingerprint, dedupe, extract, hash_clips
from impact_bench.extract import frontend as extract_frontend
from impact_bench.pipeline import guard
from impact_bench.pipeline.options import RunRequest, channel_label_suffix, check_options
from impact_bench.results import SCHEMA_VERSION, coverage_of, provenance, validate_results, write_json
from impact_bench.suites.spec import AnomalySuiteSpec, AnySuite

Log = Callable[[str], None]


def resolve_data_root(spec: AnySuite, given: Path | None) -> Path:
    """The dataset folder, or a DataError saying where we looked and where to get the data."""
    if given is not None:
        cand, looked = Path(given), f"--data-root {given}"
    elif os.environ.get(spec.data.env_var):
        cand, looked = Path(os.environ[spec.data.env_var]), f"${spec.data.env_var}={os.environ[spec.data.env_var]}"
    else:
        cand = default_cache_root() / "data" / spec.name
        looked = f"{cand} (default; set --data-root or ${spec.data.env_var})"
    if readers.detect(spec, cand):
        return cand
    lines = [f"suite {spec.name!r}: no data found. Looked in: {looked}."]
    if not spec.data.generator:
        lines.append(f"Get it with: impact-bench data get {spec.name}  (downloads, verifies and unpacks it where this "
                     "command looks without --data-root; docs/data.md). Or by hand:")
    if spec.data.generator:
        lines.append(f"Write it with: impact-bench data synth --suite {spec.name} --out DIR, then --data-root DIR.")
    elif isinstance(spec, AnomalySuiteSpec):
        lines.append("The data is published at " + " and ".join(spec.data.published_at) + "; unpack it as "
                     "docs/anomaly.md describes and pass --data-root DIR.")
    elif spec.data.layout == "listen-release":
        lines.append("The recordings are published at " + " and ".join(spec.data.published_at) + "; pass "
                     "--data-root CLONE (the folder holding Datasets/Onsite_Train/train_list.csv).")
    else:
        lines.append("DINOS is published at " + " and ".join(spec.data.published_at) + ".")
        lines.append("Download it, then pass --data-root DIR (the folder holding DINOS_Downstreams_train/test).")
        lines.append("To run offline without the real data: --suite dinos-synth.")
    raise DataError("\n".join(lines))


def results_path(out: Path, suite: str, encoder: str, subset: bool, partial: bool = False) -> Path:
    """``<out>/<suite>__<label>[__subset][__partial].json``: the marks say it is not a full-suite score."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", encoder).strip("-")
    return Path(out) / f"{suite}__{slug}{'__subset' if subset else ''}{'__partial' if partial else ''}.json"


def check_existing(final: Path, run_key: str, overwrite: bool, log: Log) -> bool:
    """True when ``final`` already holds this very run; an error when it holds another one."""
    if not final.exists():
        return False
    try:
        old = json.loads(final.read_text())
    except (OSError, json.JSONDecodeError):
        old = {}
    if old.get("run_fingerprint") == run_key and not overwrite:
        log(f"up to date: {final} (same data, encoder and protocol); --overwrite recomputes it")
        return True
    if not overwrite:
        raise ResultsError(f"{final} exists and holds a different run; pass --overwrite to replace it, "
                           f"or --out to write elsewhere")
    return False


@dataclass
class Prepared:
    """Everything the prologue established; the kind-specific module adds its scoring."""

    req: RunRequest
    spec: AnySuite
    ranks: Ranks
    log: Log
    encoder: Encoder
    label: str
    index: Any
    clips: list[Any]
    hashes: list[str]
    fingerprint: dict[str, Any]
    coverage: dict[str, Any]
    options: dict[str, Any]
    final: Path
    t_start: float
    duplicates_dropped: int = 0
    notices: list[str] = field(default_factory=list)
    suspect_audio: dict[str, Any] = field(default_factory=dict)  # audio_notices.collect, by kind
    native_rates: dict[int, int] = field(default_factory=dict)   # from every clip's header
    channels: dict[int, int] = field(default_factory=dict)

    @property
    def partial(self) -> Path:
        return self.final.parent / f".{self.final.stem}.partial"

    def run_key(self, protocol: dict[str, Any]) -> str:
        return canonical_hash({"suite": [self.spec.name, self.spec.version], "data": self.fingerprint,
                               "encoder": identity(self.encoder), "frontend": extract_frontend(self.spec.audio),
                               **protocol, "schema": SCHEMA_VERSION})


def prepare(req: RunRequest, spec: AnySuite, ranks: Ranks, log: Log, label_suffix: str = "",
            drop_duplicates: bool = False) -> Prepared:
    t_start = time.perf_counter()
    options = check_options(req, spec)
    factory = resolve_factory(req.encoder, req.autoload_plugins)  # a mistyped name fails here, with suggestions
    root = resolve_data_root(spec, req.data_root)  # fail fast, before any model is built
    index = readers.scan(spec, root, readers.ScanOptions(req.class_map, req.max_clips_per_class, tuple(req.machines)))
    for note in index.notices:
        log(f"note: {note}")
    encoder = build_encoder(req.encoder, checkpoint=req.checkpoint, device=str(ranks.device),
                            options=req.encoder_options, factory=factory)
    label = (req.label or (encoder.name if ":" in req.encoder else req.encoder) + label_suffix
             + channel_label_suffix(req))
    coverage = coverage_of(spec, index.clips, subset=index.subset)
    if not coverage["complete"]:
        log(f"note: partial run — {coverage['summary']}; the results file is marked partial")
    missing_parts = any(v for v in coverage["missing"].values())  # declared classes / sets / machines absent
    final = results_path(req.out, spec.name, label, bool(index.subset) and not missing_parts, missing_parts)
    clips = list(index.clips)
    hashes = hash_clips(clips, req.progress and ranks.is_main)
    hashes_all = list(hashes)
    dropped, notices = 0, list(index.notices)
    if drop_duplicates:
        keep, dup_notes = dedupe(clips, hashes)
        dropped = len(clips) - len(keep)
        clips, hashes = [clips[i] for i in keep], [hashes[i] for i in keep]
        for note in dup_notes[:5]:
            log(f"note: {note}")
    found, suspect, rates, channels = _audio_checks(req, spec, list(index.clips), hashes_all, clips, log)
    notices += found
    return Prepared(req, spec, ranks, log, encoder, label, index, clips, hashes, data_fingerprint(clips, hashes),
                    coverage, options, final, t_start, dropped, notices, suspect, rates, channels)


TRAIN_TEST_DUP = "audio duplicated across train and test"


def _audio_checks(req: RunRequest, spec: AnySuite, all_clips: list[Any], all_hashes: list[str], clips: list[Any],
                  log: Log) -> tuple[list[str], dict[str, Any], dict[int, int], dict[int, int]]:
    """Suspect audio (``audio_notices``) and train/test duplicates: notices, or a DataError under ``--strict``."""
    dups = _train_test_duplicates(all_clips, all_hashes)
    facts = [audio_notices.inspect(c.path) for c in clips]
    suspect, rates, channels = audio_notices.collect(
        ((c.relpath, f, getattr(c, "start", 0)) for c, f in zip(clips, facts)), spec.audio.clip_seconds,
        downmixes=spec.audio.channel is None and spec.audio.channels is None)
    recoded = audio_notices.reencoded_across_splits([(c.relpath, c.path, f, _side(c)) for c, f in zip(clips, facts)])
    if recoded:
        dups.append(f"{TRAIN_TEST_DUP} (the same samples in another sample format; {len(recoded)} pair(s)): "
                    + "; ".join(recoded[:20]) + (f", … and {len(recoded) - 20} more" if len(recoded) > 20 else ""))
    found = dups + audio_notices.lines(suspect)
    if req.strict and found:
        raise DataError("--strict: " + "; ".join(found) + ". Fix or remove these files, or run without --strict "
                        "(the results file then lists them under suite.notices)")
    for line in found:
        log(f"note: {line}")
    return found, suspect, rates, channels


def _side(clip: Any) -> str:
    """train / test for a clip of an anomaly split or of a release's train/test folders; other otherwise."""
    return getattr(clip, "split", None) or getattr(clip, "release_split", None) or "other"


def _train_test_duplicates(clips: list[Any], hashes: list[str]) -> list[str]:
    """Byte-identical files on both sides of a train/test split (anomaly ``split``; the release's split)."""
    groups: dict[str, list[int]] = {}
    for i, h in enumerate(hashes):
        groups.setdefault(h, []).append(i)
    found = []
    for idx in groups.values():
        sides = {_side(clips[i]) for i in idx}
        if len(idx) > 1 and {"train", "test"} <= sides:
            found.append(" = ".join(clips[i].relpath for i in idx))
    if not found:
        return []
    more = f", … and {len(found) - 20} more" if len(found) > 20 else ""
    return [f"{TRAIN_TEST_DUP} (byte-identical; {len(found)} group(s)): " + "; ".join(found[:20]) + more]


def open_partial(p: Prepared, run_key: str) -> Path:
    """The hidden folder of finished units: kept when it belongs to this run, discarded otherwise."""
    partial, state = p.partial, p.partial / "run.json"
    if partial.exists():
        try:
            same = json.loads(state.read_text()).get("run_fingerprint") == run_key
        except (OSError, json.JSONDecodeError):
            same = False
        if not same:
            p.log(f"note: discarding unfinished work of a different configuration in {partial}")
            shutil.rmtree(partial)
        else:
            p.log(f"resuming from {partial}")
    if p.ranks.is_main:
        partial.mkdir(parents=True, exist_ok=True)
        write_json(state, {"run_fingerprint": run_key})
    guard.remember_run_key(partial, run_key)
    return partial


def unit(partial: Path, name: str, compute: Callable[[], dict[str, Any]], log: Log = print) -> dict[str, Any]:
    """One unit of work, computed once: read back from the partial folder when this run's configuration
    finished it (a damaged unit, or one another configuration made, is recomputed with a notice)."""
    return guard.unit(partial, name, compute, log)


def embed(p: Prepared) -> Extraction:
    req = p.req
    cache_root = (req.cache_dir or default_cache_root() / "embeddings") if req.use_cache else None
    ext = extract(p.encoder, p.clips, p.spec.audio, cache_root, req.batch_size, req.progress and p.ranks.is_main,
                  p.hashes, p.ranks)
    if p.ranks.is_main:
        for note in ext.notices:
            if note.startswith("damaged cache shard"):
                p.log(f"note: {note}")
        p.log(f"embeddings: {ext.computed} computed, {ext.cached} from cache ({ext.seconds:.1f} s)")
    return ext


@dataclass
class Started:
    run_key: str
    up_to_date: bool                 # the results file already holds this very run
    partial: Path | None = None      # folder of finished units
    ext: Extraction | None = None    # the embeddings (every row on the main rank)


def begin(p: Prepared, protocol: dict[str, Any]) -> Started:
    """Run key from the kind's protocol, existing-file check, partial folder, embeddings."""
    run_key = p.run_key(protocol)
    if p.ranks.is_main:  # one run per results file (see pipeline/guard.py); the other ranks only extract
        guard.acquire(p.final)
    try:
        if p.ranks.is_main:
            guard.repair_interrupted_swap(p.partial, p.log)
        if check_existing(p.final, run_key, p.req.overwrite, p.log):
            guard.release(p.final)
            return Started(run_key, True)
    except BaseException:
        guard.release(p.final)
        raise
    partial = open_partial(p, run_key)
    return Started(run_key, False, partial, embed(p))


def header(p: Prepared, kind: str, run_key: str, ext: Extraction, suite_extra: dict[str, Any]) -> dict[str, Any]:
    spec = p.spec
    return {
        "schema_version": SCHEMA_VERSION, "kind": kind, "status": "complete", "run_fingerprint": run_key,
        "encoder": {**describe(p.encoder), "label": p.label},
        "suite": {"name": spec.name, "version": spec.version, "title": spec.title, "synthetic": spec.synthetic,
                  "comparable_to": spec.comparable_to, "source_file": Path(spec.source_file).name,
                  "main_score": spec.main_score, "data_root": str(p.index.root), "data_fingerprint": p.fingerprint,
                  "subset": bool(p.index.subset), "notices": p.notices + ext.notices,
                  "audio_notices": p.suspect_audio, **suite_extra},
        "coverage": p.coverage,
        "options": p.options,
        "extraction": {"computed": ext.computed, "cached": ext.cached, "cache_key": ext.policy["cache_key"],
                       "batch_size": p.req.batch_size, "ranks": p.ranks.world,
                       # of every clip, from its header (the same on a warm cache):
                       "native_sample_rates": p.native_rates, "channels": p.channels},
        "provenance": provenance(p.req.device),
    }


def _final_bytes(p: Prepared, results: dict[str, Any]) -> bytes:
    guard.recheck_existing(p.final, results["run_fingerprint"], p.req.overwrite, p.partial)
    faults.point("results-write")
    return (json.dumps(validate_results(results, str(p.final)), indent=1) + "\n").encode()  # as write_json


def _done(p: Prepared, extra_note: str) -> Path:
    shutil.rmtree(p.partial, ignore_errors=True)
    guard.sweep_leftovers(p.final)
    guard.release(p.final)
    marks = (" [SYNTHETIC data]" if p.spec.synthetic else "") + (" [SUBSET]" if "__subset" in p.final.name else "") \
        + ("" if p.coverage["complete"] else " [PARTIAL]")
    p.log(f"wrote {p.final}{extra_note}{marks}")
    if p.suspect_audio:
        p.log(f"suspect audio: {audio_notices.summary(p.suspect_audio)} (listed under suite.notices in the results "
              f"file; --strict refuses them)")
    return p.final


def finish(p: Prepared, results: dict[str, Any], extra_note: str = "") -> Path:
    """Validate through the results models, check (under the lock) that the file is still what the run saw
    at its start, write atomically, drop the partial folder and leftover temp files, release the lock."""
    atomic_write_bytes(p.final, _final_bytes(p, results))
    return _done(p, extra_note)


def finish_with_folder(p: Prepared, results: dict[str, Any], staging: Path, folder: Path,
                       extra_note: str = "") -> Path:
    """As :func:`finish`, for a run whose results file describes a folder beside it (anomaly submissions):
    the two are replaced as one unit (``guard.swap_into_place``), so no kill leaves an old results file
    beside a new folder."""
    guard.swap_into_place(p.partial, p.final, _final_bytes(p, results), staging, folder)
    return _done(p, extra_note)
