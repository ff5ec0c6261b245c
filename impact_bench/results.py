"""The results file: one JSON per (encoder, suite) run. Schema version 1.1, written down here.

1.1 added ``kind``: ``classification`` (:class:`Results`, the only kind of 1.0 files, which are still
read) or ``anomaly`` (:class:`AnomalyResults`).

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

SCHEMA_VERSION = "1.1"
READABLE = ("1.0", "1.1")


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
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def provenance(device: str) -> Provenance:
    import numpy
    import sklearn
    import torch

    from impact_bench import __version__
    return Provenance(
        impact_bench_version=__version__, git_commit=git_commit(), python=sys.version.split()[0],
        torch=torch.__version__, numpy=numpy.__version__, scikit_learn=sklearn.__version__,
        platform=platform.platform(), device=device,
        created_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        command=" ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
    )


def write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=1, sort_keys=False) + "\n").encode())


def load_results(path: Path) -> Results:
    """Read and check a results file; incomplete or foreign files are refused with the reason."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read results file ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    if data.get("schema_version") not in READABLE:
        raise ResultsError(f"{path}: field 'schema_version' is {data.get('schema_version')!r}; "
                           f"this impact-bench reads {' and '.join(READABLE)}")
    if data.get("status") != "complete":
        raise ResultsError(f"{path}: field 'status' is {data.get('status')!r}; the run did not finish")
    kind = data.setdefault("kind", "classification")
    if kind not in ("classification", "anomaly"):
        raise ResultsError(f"{path}: field 'kind' is {kind!r}; expected classification or anomaly")
    missing = [k for k in (REQUIRED_ANOMALY if kind == "anomaly" else REQUIRED) if k not in data]
    if missing:
        raise ResultsError(f"{path}: missing fields {missing}")
    return data  # type: ignore[return-value]
