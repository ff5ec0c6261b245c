"""Back-end selection on the dev set only, and the first-shot record of an eval run.

DCASE 2023–2026 Task 2 are *first-shot* problems: the eval machine types are unseen at dev time, so
a participant fixes the back end (detector, normalisation, k, …) on the dev set and applies it once
to eval. :func:`evaluate_candidates` scores each candidate configuration on the dev set with the
year's official score (``scoring.set_headline``: the harmonic mean the official evaluator computes,
from submission files written exactly as a run writes them); :func:`choose` takes the best;
:func:`build_selection` turns that into the selection file that ``run --backend-from`` reads.
:func:`first_shot_record` is what an eval run stores in ``protocol.first_shot``.

Only the dev set's embeddings, file names and labels (public in the dev file names) are read here.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from impact_bench.anomaly import backends
from impact_bench.anomaly.dataset import AsdClip
from impact_bench.anomaly.scoring import backend_config, score_set, set_headline, set_metrics, truths_from_names
from impact_bench.anomaly.submission import write_submission
from impact_bench.cache import atomic_write_bytes
from impact_bench.errors import DataError
from impact_bench.suites.spec import AnomalySuiteSpec

# DCASE 2023 Task 2 introduced the first-shot setting (task description, arXiv 2305.07828 §1: "the machine
# types of the evaluation dataset are not included in the development dataset"); 2024–2026 keep it.
FIRST_SHOT_YEARS = (2023, 2024, 2025, 2026)
SELECTION_KIND = "impact-bench back-end selection"
SELECTION_SCHEMA = 1
SELECTED_ON = "dev"
COMPUTE_ONLY = frozenset({"chunk", "transductive"})  # fields that change speed or are derived, not the scores


class SelectionError(DataError):
    """A selection file that is unreadable or made for another suite, encoder or data."""


def is_first_shot(spec: AnomalySuiteSpec) -> bool:
    return spec.data.layout == "dcase" and spec.data.year in FIRST_SHOT_YEARS


def default_candidates() -> list[dict[str, Any]]:
    """Every back end × every inductive normalisation, read from ``backends`` at call time.

    Transductive normalisations (``test-z``: statistics of the scored set's test clips) are left out:
    selecting on dev with them is possible, but the eval run would then use eval-set statistics; ask for
    them explicitly with ``--candidates knn/test-z``. The mixed-bank back ends (``backends.MIXED_BANK``:
    one detector per section, no source/target min) get ``none`` only: a normalisation is a monotone map of
    that one detector's scores, so every figure would repeat.
    """
    mixed = set(getattr(backends, "MIXED_BANK", ()))
    return [{"name": b, "normalise": n} for b in backends.BACKENDS for n in backends.NORMALISATIONS
            if n not in backends.TRANSDUCTIVE and (b not in mixed or n == "none")]


def _value(raw: str) -> Any:
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def parse_candidate(text: str) -> dict[str, Any]:
    """``NAME[/NORMALISE][,KEY=VALUE…]`` or ``KEY=VALUE,…`` → back-end overrides.

    Examples: ``knn``, ``knn/train-loo``, ``knn/none,k=3,metric=euclidean``, ``name=gmm,n_components=4``.
    """
    out: dict[str, Any] = {}
    for i, part in enumerate(p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, raw = part.partition("=")
        if sep:
            if not key or not raw:
                raise SelectionError(f"--candidates {text!r}: expected KEY=VALUE, got {part!r}")
            out[key.strip()] = _value(raw.strip())
        elif i == 0:
            name, _, norm = part.partition("/")
            out["name"] = name
            if norm:
                out["normalise"] = norm
        else:
            raise SelectionError(f"--candidates {text!r}: {part!r} is not KEY=VALUE (only the first part may "
                                 f"be NAME[/NORMALISE])")
    if not out:
        raise SelectionError(f"--candidates: empty candidate {text!r}")
    return out


def candidate_label(opts: dict[str, Any]) -> str:
    head = f"{opts.get('name', '(suite default)')}/{opts.get('normalise', '(suite default)')}"
    rest = ",".join(f"{k}={v}" for k, v in opts.items() if k not in ("name", "normalise"))
    return head + ("," + rest if rest else "")


@dataclass
class Candidate:
    """One configuration and its dev-set result (``error`` when it cannot run on this data)."""

    options: dict[str, Any]             # the overrides, as ``--backend-opt`` would give them
    backend: dict[str, Any] | None      # the full configuration (``BackendConfig.as_dict``)
    dev_score: float | None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"label": candidate_label(self.options), "options": self.options, "backend": self.backend,
                "dev_score": self.dev_score, "error": self.error}


def evaluate_candidates(spec: AnomalySuiteSpec, clips: list[AsdClip], x: np.ndarray,
                        candidates: Iterable[dict[str, Any]], base: dict[str, Any] | None = None,
                        set_name: str = SELECTED_ON,
                        step: Callable[[Candidate], None] | None = None) -> list[Candidate]:
    """Score every candidate on ``set_name`` (labels from the dev file names) with the official score.

    ``base`` overrides apply to every candidate (the candidate's own keys win). A candidate that cannot
    run on this data (e.g. too few training clips for its detector) is kept with its error and no score.
    The embeddings are computed once by the caller; each candidate costs only fitting and scoring.
    """
    if spec.data.layout != "dcase":
        raise SelectionError(f"suite {spec.name}: back-end selection uses the DCASE official score; "
                             f"it applies to dcase20XX suites, not the {spec.data.layout} layout")
    if not any(c.set == set_name for c in clips):
        raise SelectionError(f"suite {spec.name}: no {set_name}-set clips to select on")
    truths = truths_from_names(clips, set_name, spec.data.year)
    year = int(spec.data.year)  # type: ignore[arg-type]
    out: list[Candidate] = []
    for opts in candidates:
        opts = {**(base or {}), **opts}
        try:
            cfg = backend_config(spec, opts)
        except DataError as exc:  # not a valid configuration (unknown back end / option)
            out.append(Candidate(opts, None, None, str(exc)))
        else:
            try:
                units = score_set(spec, cfg, clips, x, set_name)
                with tempfile.TemporaryDirectory(prefix="impact-bench-select-") as tmp:
                    folder = write_submission(Path(tmp) / set_name, year, units)
                    res = set_metrics(spec, truths, folder, units)
                out.append(Candidate(opts, cfg.as_dict(), set_headline(res)))
            except (DataError, ValueError, ArithmeticError, RuntimeError) as exc:  # e.g. a bank too small for
                # it, a singular covariance, a threshold fit that does not converge (scipy's FitError)
                out.append(Candidate(opts, cfg.as_dict(), None, f"{type(exc).__name__}: {exc}"))
        if step is not None:
            step(out[-1])
    return out


def choose(results: list[Candidate]) -> int:
    """Index of the best dev score; ties go to the earlier candidate (the order given)."""
    scored = [(i, c.dev_score) for i, c in enumerate(results) if c.dev_score is not None]
    if not scored:
        reasons = "; ".join(f"{candidate_label(c.options)}: {c.error}" for c in results[:3])
        raise SelectionError(f"no candidate back end could be scored on the dev set ({reasons})")
    best = max(v for _, v in scored)
    return next(i for i, v in scored if v == best)


def build_selection(spec: AnomalySuiteSpec, encoder: dict[str, Any], data: dict[str, Any],
                    results: list[Candidate], chosen: int, version: str) -> dict[str, Any]:
    """The selection file's content: what was chosen, on which data, among which candidates."""
    return {
        "kind": SELECTION_KIND, "schema": SELECTION_SCHEMA,
        "suite": {"name": spec.name, "version": spec.version, "year": spec.data.year, "synthetic": spec.synthetic},
        "encoder": encoder,
        "data": {"selected_on": SELECTED_ON, **data},
        "score": "official score of the dev set (harmonic mean of AUC-source, AUC-target and pAUC over "
                 "sections, as the official evaluator)",
        "candidates": [c.as_dict() for c in results],
        "chosen": results[chosen].as_dict(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "impact_bench_version": version,
    }


def read_selection(path: Path) -> tuple[dict[str, Any], str]:
    """(content, sha256 of the file's bytes); a clear error for anything that is not a selection file."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SelectionError(f"--backend-from {path}: cannot read the selection file ({exc})") from exc
    try:
        sel = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SelectionError(f"--backend-from {path}: not JSON ({exc}); expected a file written by "
                             f"`impact-bench select-backend`") from exc
    if not isinstance(sel, dict) or sel.get("kind") != SELECTION_KIND:
        raise SelectionError(f"--backend-from {path}: field 'kind' is not {SELECTION_KIND!r}; expected a file "
                             f"written by `impact-bench select-backend`")
    if sel.get("schema") != SELECTION_SCHEMA:
        raise SelectionError(f"--backend-from {path}: field 'schema' is {sel.get('schema')!r}, this version "
                             f"reads schema {SELECTION_SCHEMA}")
    for key in ("suite", "encoder", "data", "chosen"):
        if not isinstance(sel.get(key), dict):
            raise SelectionError(f"--backend-from {path}: field {key!r} is missing or not an object")
    if not isinstance(sel["chosen"].get("options"), dict) or not isinstance(sel["chosen"].get("backend"), dict):
        raise SelectionError(f"--backend-from {path}: field 'chosen' lacks 'options'/'backend'")
    return sel, hashlib.sha256(raw).hexdigest()


def _refuse(path: Path, field: str, made: Any, here: Any) -> SelectionError:
    return SelectionError(f"--backend-from {path}: made for {field} {made!r}, but this run has {here!r}; "
                          f"run `impact-bench select-backend` for this {field.split('.')[0]}")


def check_suite(sel: dict[str, Any], path: Path, spec: AnomalySuiteSpec) -> None:
    for field, here in (("name", spec.name), ("version", spec.version)):
        if sel["suite"].get(field) != here:
            raise _refuse(path, f"suite.{field}", sel["suite"].get(field), here)


def check_encoder(sel: dict[str, Any], path: Path, request: str | None = None,
                  identity: dict[str, Any] | None = None) -> None:
    """The encoder as asked for (``request``, before it is built) or as built (``identity``)."""
    made = sel["encoder"]
    if request is not None and made.get("request") != request:
        raise _refuse(path, "encoder.request", made.get("request"), request)
    if identity is not None and made.get("identity") != identity:
        diff = sorted(k for k in set(identity) | set(made.get("identity") or {})
                      if (made.get("identity") or {}).get(k) != identity.get(k))
        raise _refuse(path, f"encoder.identity ({', '.join(diff)})",
                      {k: (made.get("identity") or {}).get(k) for k in diff}, {k: identity.get(k) for k in diff})


def check_data(sel: dict[str, Any], path: Path, fingerprint: dict[str, Any]) -> None:
    made = sel["data"].get("fingerprint")
    if made != fingerprint:
        raise _refuse(path, "data.fingerprint (the dev-set clips)", made, fingerprint)


def same_config(run: dict[str, Any], chosen: dict[str, Any]) -> bool:
    """Equal on every scoring field the selection recorded (compute-only fields ignored)."""
    return all(run.get(k) == v for k, v in chosen.items() if k not in COMPUTE_ONLY)


def first_shot_record(spec: AnomalySuiteSpec, run_backend: dict[str, Any], default_backend: dict[str, Any],
                      selection: tuple[Path, dict[str, Any], str] | None) -> dict[str, Any] | None:
    """``protocol.first_shot`` of an unsupervised DCASE run (None for other layouts).

    ``clean`` (first-shot years only) is True when the back end is the one selected on dev
    (``--backend-from``, configuration unchanged) or the suite's a-priori default (fixed from the
    literature before any data is seen); any other configuration may have been tuned on eval: False.
    """
    if spec.data.layout != "dcase":
        return None
    applies = is_first_shot(spec)
    if selection is not None:
        path, sel, sha = selection
        matches = same_config(run_backend, sel["chosen"]["backend"])
        rec = {"selected_on": sel["data"].get("selected_on", SELECTED_ON), "selection_file": str(path),
               "selection_sha256": sha, "chosen": sel["chosen"]["backend"],
               "chosen_dev_score": sel["chosen"].get("dev_score"), "matches": matches}
    else:
        matches = same_config(run_backend, default_backend)
        rec = {"selected_on": "suite default" if matches else None, "selection_file": None,
               "selection_sha256": None, "chosen": None, "chosen_dev_score": None, "matches": matches}
    return {"applies": applies, **rec, "clean": matches if applies else None}


def write_selection(path: Path, sel: dict[str, Any], overwrite: bool = False) -> None:
    """Write the file; an existing file is replaced only with ``overwrite`` (it may be someone's record)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise SelectionError(f"{path} exists; pass --overwrite to replace it, or -o to write elsewhere")
    if path.parent and not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(sel, indent=1) + "\n").encode())
