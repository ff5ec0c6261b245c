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

from impact_bench import readers
from impact_bench.cache import canonical_hash, default_cache_root
from impact_bench.distributed import Ranks
from impact_bench.encoders.catalog import build_encoder, resolve_factory
from impact_bench.encoders.protocol import Encoder, describe, identity
from impact_bench.errors import DataError, ResultsError
from impact_bench.extract import Extraction, data_fingerprint, dedupe, extract, hash_clips
from impact_bench.extract import frontend as extract_frontend
from impact_bench.pipeline.options import RunRequest, check_options
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
    label = (req.label or (encoder.name if ":" in req.encoder else req.encoder) + label_suffix)
    coverage = coverage_of(spec, index.clips, subset=index.subset)
    if not coverage["complete"]:
        log(f"note: partial run — {coverage['summary']}; the results file is marked partial")
    missing_parts = any(v for v in coverage["missing"].values())  # declared classes / sets / machines absent
    final = results_path(req.out, spec.name, label, bool(index.subset) and not missing_parts, missing_parts)
    clips = list(index.clips)
    hashes = hash_clips(clips, req.progress and ranks.is_main)
    dropped, notices = 0, list(index.notices)
    if drop_duplicates:
        keep, dup_notes = dedupe(clips, hashes)
        dropped = len(clips) - len(keep)
        clips, hashes = [clips[i] for i in keep], [hashes[i] for i in keep]
        for note in dup_notes[:5]:
            log(f"note: {note}")
    return Prepared(req, spec, ranks, log, encoder, label, index, clips, hashes, data_fingerprint(clips, hashes),
                    coverage, options, final, t_start, dropped, notices)


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
    return partial


def unit(partial: Path, name: str, compute: Callable[[], dict[str, Any]], log: Log = print) -> dict[str, Any]:
    """One unit of work, computed once: read back from the partial folder when a previous run finished it
    (a damaged unit file is recomputed, with a notice)."""
    path = partial / f"{name}.json"
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
            raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            log(f"note: finished unit {path} is damaged ({type(exc).__name__}: {exc}); recomputing it")
    result = compute()
    write_json(path, result)
    return result


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
    if check_existing(p.final, run_key, p.req.overwrite, p.log):
        return Started(run_key, True)
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
                  "subset": bool(p.index.subset), "notices": p.notices + ext.notices, **suite_extra},
        "coverage": p.coverage,
        "options": p.options,
        "extraction": {"computed": ext.computed, "cached": ext.cached, "cache_key": ext.policy["cache_key"],
                       "batch_size": p.req.batch_size, "ranks": p.ranks.world,
                       # of the clips rank 0 decoded in this run (cache hits are not decoded):
                       "native_sample_rates": ext.native_rates, "channels": ext.channels},
        "provenance": provenance(p.req.device),
    }


def finish(p: Prepared, results: dict[str, Any], extra_note: str = "") -> Path:
    """Validate through the results models, write atomically, drop the partial folder."""
    write_json(p.final, validate_results(results, str(p.final)))
    shutil.rmtree(p.partial, ignore_errors=True)
    marks = (" [SYNTHETIC data]" if p.spec.synthetic else "") + (" [SUBSET]" if "__subset" in p.final.name else "") \
        + ("" if p.coverage["complete"] else " [PARTIAL]")
    p.log(f"wrote {p.final}{extra_note}{marks}")
    return p.final
