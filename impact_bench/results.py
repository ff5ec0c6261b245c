"""The results file: one JSON per (encoder, suite) run. Schema version 1.2, written down here.

1.1 added ``kind``: ``classification`` (:class:`Results`, the only kind of 1.0 files, which are still
read) or ``anomaly`` (:class:`AnomalyResults`). 1.2 added ``coverage`` (which of the suite's declared
classes / sets / machine types the run holds; anything less is marked partial), ``options`` (the
run options that were applied) and ``suite.main_score`` (which summary number is the headline).
Files are written and read through the pydantic models of :mod:`impact_bench.results_models`; 1.0
and 1.1 files are upgraded on load (their coverage is inferred from what they hold).

Bump ``SCHEMA_VERSION`` on any change a reader could notice. A file is only ever written
complete (``status: "complete"``, temp file + rename); work in progress lives in a hidden
``.<name>.partial/`` folder beside it, so nothing that looks like a result exists until the run
has finished.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, TypedDict

from impact_bench.cache import atomic_write_bytes
from impact_bench.errors import ResultsError

SCHEMA_VERSION = "1.2"
READABLE = ("1.0", "1.1", "1.2")


class MeanStd(TypedDict):
    mean: float
    std: float  # population std over seeds (ddof 0)


class SeedResult(TypedDict):
    seed: int
    macro_f1: float  # mean of per-class F1 over all classes of the problem
    accuracy: float
    balanced_accuracy: float
    per_task_f1: dict[str, float]  # task id (a class of the problem) → F1
    epochs: int  # epochs trained before early stopping
    final_train_loss: float
    n_train: int
    n_test: int
    test_idx: list[int]  # 1.2: test clips as positions in the problem's clip order (see ProblemResult.y_true)
    y_pred: list[int]  # 1.2: predicted class per test clip, aligned with test_idx


class ProblemResult(TypedDict):
    name: str
    machine: str
    tasks: list[str]  # class order of the confusion matrix
    n_clips: int
    macro_f1: MeanStd
    accuracy: MeanStd
    balanced_accuracy: MeanStd
    per_task_f1: dict[str, MeanStd]
    confusion_matrix: list[list[int]]  # rows true, columns predicted, summed over seeds
    seeds: list[SeedResult]  # every per-seed number is kept
    y_true: list[int]  # 1.2: class index of every clip of the problem, in a fixed order
    clips_sha256: str  # 1.2: hash of that order (relative paths); paired comparisons require equal hashes


class SuiteInfo(TypedDict):
    name: str
    version: str
    title: str
    synthetic: bool
    comparable_to: str  # results share a leaderboard column group only when this matches
    source_file: str
    data_root: str
    data_fingerprint: dict[str, Any]  # files, content_sha256
    subset: bool  # True when --max-clips-per-class limited the data
    max_clips_per_class: int | None
    duplicates_dropped: int
    notices: list[str]


class Provenance(TypedDict):
    impact_bench_version: str
    git_commit: str | None
    python: str
    torch: str
    numpy: str
    scikit_learn: str
    platform: str
    device: str
    created_utc: str
    command: str


class Results(TypedDict):
    schema_version: str
    kind: Literal["classification"]  # absent in 1.0 files (read as classification)
    status: Literal["complete"]
    run_fingerprint: str  # hash of everything that determines the numbers
    encoder: dict[str, Any]  # name, label (run name), version, sample_rate, embedding_dim, config, checkpoint_sha256, licence
    suite: SuiteInfo
    protocol: dict[str, Any]  # split, probe settings, front end, encoder input policy
    problems: list[ProblemResult]
    summary: dict[str, Any]  # mean_macro_f1 over problems (mean of per-problem means)
    extraction: dict[str, Any]  # clips embedded vs taken from cache, cache key
    timings: dict[str, float]  # seconds: extract, probe, total
    provenance: Provenance


class AnomalySet(TypedDict, total=False):
    scored: bool                # False when labels are unavailable (eval set without --ground-truth)
    reason: str                 # why not scored
    labels_from: str            # "file names" (dev) or the ground-truth folder (eval)
    official_score: float | None  # year's rule (2020: None; see mean_auc / mean_pauc)
    machines: dict[str, Any]    # machine type → {"sections" | "units": {…}, "mean": {…}}
    roc: dict[str, Any]         # machine type → unit → {"fpr": […], "tpr": […]} (≤ 65 points)
    submission: str             # folder of official-format CSVs, relative to the results file


class AnomalyResults(TypedDict):
    schema_version: str
    kind: Literal["anomaly"]
    status: Literal["complete"]
    run_fingerprint: str
    encoder: dict[str, Any]
    suite: dict[str, Any]       # SuiteInfo fields + layout, year, supplemental
    protocol: dict[str, Any]    # year, backend (+ transductive flag), domain rule, threshold, front end
    sets: dict[str, AnomalySet]  # "dev" / "eval" (DCASE), SNR (MIMII), "release" (DINOS)
    summary: dict[str, Any]     # set → headline score
    extraction: dict[str, Any]
    timings: dict[str, float]
    provenance: Provenance


REQUIRED = tuple(k for k in Results.__annotations__ if k != "kind")
REQUIRED_ANOMALY = tuple(AnomalyResults.__annotations__)


def git_commit() -> str | None:
    """The commit of a source checkout of impact-bench itself; None for an installed copy (even one that
    sits inside some other git repository, e.g. a virtual environment in a project folder)."""
    here = Path(__file__).resolve().parent
    root = here.parent
    try:
        if "name = \"impact-bench\"" not in (root / "pyproject.toml").read_text(encoding="utf-8"):
            return None
        out = subprocess.run(["git", "rev-parse", "--show-toplevel", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.split()
    if out.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != root:
        return None
    return lines[1]


def _installed_version(fallback: str) -> str:
    """The installed distribution's version (what `pip show impact-bench` says)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("impact-bench")
    except PackageNotFoundError:
        return fallback


def provenance(device: str) -> Provenance:
    import numpy
    import sklearn
    import torch

    from impact_bench import __version__
    return Provenance(
        impact_bench_version=_installed_version(__version__), git_commit=git_commit(), python=sys.version.split()[0],
        torch=torch.__version__, numpy=numpy.__version__, scikit_learn=sklearn.__version__,
        platform=platform.platform(), device=device,
        created_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        command=" ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
    )


def write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=1, sort_keys=False) + "\n").encode())


def load_results(path: Path) -> Results:
    """Read, upgrade (1.0, 1.1 → 1.2) and validate a results file; any problem names the file and field."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read results file ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ResultsError(f"{path}: not UTF-8 text ({exc}); expected an impact-bench results JSON") from exc
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    if data.get("schema_version") not in READABLE:
        raise ResultsError(f"{path}: field 'schema_version' is {data.get('schema_version')!r}; "
                           f"this impact-bench reads {', '.join(READABLE)}")
    if data.get("status") != "complete":
        raise ResultsError(f"{path}: field 'status' is {data.get('status')!r}; the run did not finish")
    kind = data.setdefault("kind", "classification")
    if kind not in ("classification", "anomaly"):
        raise ResultsError(f"{path}: field 'kind' is {kind!r}; expected classification or anomaly")
    missing = [k for k in (REQUIRED_ANOMALY if kind == "anomaly" else REQUIRED) if k not in data]
    if missing:
        raise ResultsError(f"{path}: missing fields {missing}")
    return validate_results(upgrade(data), str(path))  # type: ignore[return-value]


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A 1.0 / 1.1 file in the 1.2 layout: coverage inferred from its contents, options unknown."""
    if data["schema_version"] == SCHEMA_VERSION:
        return data
    data = dict(data)
    suite = dict(data["suite"])
    subset = bool(suite.get("subset"))
    if data["kind"] == "classification":
        classes = [t for p in data.get("problems", []) for t in p.get("tasks", [])]
        held = {"classes": classes}
        suite.setdefault("main_score", "mean_macro_f1")
    else:
        held = {"sets": {k: sorted(v.get("machines", {})) for k, v in data.get("sets", {}).items()}}
        suite.setdefault("main_score", "mean")
        summary = dict(data.get("summary", {}))
        scored = [v for v in summary.values() if isinstance(v, (int, float))]
        summary.setdefault("mean", sum(scored) / len(scored) if scored else None)
        data["summary"] = summary
    data["suite"] = suite
    encoder = dict(data.get("encoder", {}))
    if "license" in encoder:  # one spelling from 1.2 on; the old key is kept for old readers
        encoder.setdefault("licence", encoder["license"])
    data["encoder"] = encoder
    data.setdefault("coverage", {"complete": not subset, "inferred": True, "declared": None, "held": held,
                                 "missing": {}, "summary": "inferred from a schema "
                                 f"{data['schema_version']} file" + (" (subset)" if subset else "")})
    data.setdefault("options", {})
    data["upgraded_from"] = data["schema_version"]
    data["schema_version"] = SCHEMA_VERSION
    return data


def validate_results(data: dict[str, Any], where: str) -> dict[str, Any]:
    """The dict as the results models accept it (extra fields kept); errors name ``where`` and the field."""
    from pydantic import ValidationError

    from impact_bench.results_models import model_for
    try:
        model = model_for(data.get("kind", "classification")).model_validate(data)
    except ValidationError as exc:
        problems = [f"field '{'.'.join(str(p) for p in e['loc']) or '(top level)'}': {e['msg']}" for e in exc.errors()]
        raise ResultsError(f"{where}: malformed results file\n  " + "\n  ".join(problems[:10])) from None
    return model.model_dump(mode="json")


def headline(res: dict[str, Any]) -> float | None:
    """The suite's main score of a run (``suite.main_score`` names the summary entry): what logs, the
    demo and leaderboards print as one number. None when that entry was not scored."""
    key = res["suite"].get("main_score") or ("mean_macro_f1" if res.get("kind") == "classification" else "mean")
    value = res.get("summary", {}).get(key)
    return None if value is None else float(value)


def coverage_of(spec: Any, clips: list[Any], subset: bool = False) -> dict[str, Any]:
    """Which of the suite's declared classes (classification) or sets × machine types (anomaly) the
    clips hold; ``complete`` only when nothing declared is missing and no subset option was used."""
    if getattr(spec, "kind", "classification") == "classification":
        declared = [t.id for t in spec.tasks]
        held_classes = sorted({c.task for c in clips}, key=declared.index)
        missing: dict[str, Any] = {"classes": [t for t in declared if t not in held_classes]}
        declared_d: dict[str, Any] = {"classes": declared}
        held: dict[str, Any] = {"classes": held_classes}
    else:
        sets = list(spec.protocol.sets)
        held_sets: dict[str, list[str]] = {}
        for c in clips:
            held_sets.setdefault(c.set, [])
            if c.machine not in held_sets[c.set]:
                held_sets[c.set].append(c.machine)
        machines = {s: list(spec.data.machines.get(s, ())) for s in sets}
        declared_d = {"sets": {s: machines[s] or None for s in sets}}
        held = {"sets": {s: sorted(v) for s, v in held_sets.items()}}
        missing = {"sets": [s for s in sets if s not in held_sets],
                   "machines": {s: [m for m in machines[s] if m not in held_sets.get(s, [])]
                                for s in sets if s in held_sets and any(m not in held_sets[s] for m in machines[s])}}
    parts = [f"missing {k}: {v}" for k, v in missing.items() if v]
    complete = not parts and not subset
    if subset:
        parts.append("part of the data was left out (an option such as --max-clips-per-class or --machines, or the reader)")
    return {"complete": complete, "inferred": False, "declared": declared_d, "held": held, "missing": missing,
            "summary": "; ".join(parts) if parts else "the whole suite"}
