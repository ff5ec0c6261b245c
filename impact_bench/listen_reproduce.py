"""Clip-by-clip reproduction of the LISTEN release's published inference logs.

For every released backbone present in ``<root>/Models`` (``<stem>.pth`` + ``<stem>-classifier.pth``):
embed the release's test clips through the suite ``listen-onsite``'s own extraction path (the one
``run`` and ``embed`` use), apply the released head, softmax, and write per-clip predictions in the
layout of the release's ``Logs/<stem>_inference_log_*.csv`` plus per-class metrics computed as the
release's ``build_class_metrics`` does. Then compare with the newest authors' log of that backbone:
max |Δ probability| over every clip and class, share of identical predictions, macro-F1 (mean of
per-class F1) ours vs theirs. A reproduction passes when every clip is present in both, no
probability differs by more than the tolerance and no prediction differs.
"""
from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf
import torch

from impact_bench.baselines.listen import RELEASE_FILES, load_head
from impact_bench.cache import default_cache_root
from impact_bench.encoders.catalog import build_encoder
from impact_bench.errors import DataError, ResultsError
from impact_bench.extract import extract, hash_clips
from impact_bench.suites import listen
from impact_bench.suites.spec import SuiteSpec

LOG_COLUMNS = ["backbone", "filepath", "relative_path", "source_folder", "filename", "sample_rate", "num_samples",
               "predicted_index", "predicted_label", "predicted_probability", "true_index", "is_correct",
               "inference_time_sec"]  # then prob_<class> per class, in class order (release's fieldnames)
METRIC_COLUMNS = ["class_name", "support", "predicted_support", "true_positive", "false_positive", "false_negative",
                  "true_negative", "accuracy", "precision", "recall", "f1", "inference_time_mean_sec",
                  "inference_time_std_sec", "inference_time_min_sec", "inference_time_max_sec"]
RELEASE_NAMES = {stem: enc for enc, stem in RELEASE_FILES.items()}  # "LISTEN" → "listen"


@dataclass
class BackboneReport:
    backbone: str                  # release name, e.g. "LISTEN"
    encoder: str                   # impact-bench name, e.g. "listen"
    clips: int
    macro_f1_ours: float
    log: str | None = None         # the authors' log compared against
    macro_f1_authors: float | None = None
    max_abs_prob_diff: float | None = None
    identical_predictions: float | None = None   # share of clips
    differing_predictions: list[str] = field(default_factory=list)
    missing_in_ours: int = 0
    missing_in_authors: int = 0
    passed: bool | None = None
    files: dict[str, str] = field(default_factory=dict)


def _safe_div(a: float, b: float) -> float:
    return 0.0 if b == 0 else float(a) / float(b)


def class_metrics(true: list[str], pred: list[str], classes: list[str], times: np.ndarray) -> list[dict]:
    """Per-class one-vs-rest counts, precision, recall, F1, accuracy (the release's definitions)."""
    total = len(true)
    stats = {"inference_time_mean_sec": float(times.mean()) if total else 0.0,
             "inference_time_std_sec": float(times.std()) if total else 0.0,
             "inference_time_min_sec": float(times.min()) if total else 0.0,
             "inference_time_max_sec": float(times.max()) if total else 0.0}
    rows = []
    for c in classes:
        tp = sum(t == c and p == c for t, p in zip(true, pred))
        fp = sum(t != c and p == c for t, p in zip(true, pred))
        fn = sum(t == c and p != c for t, p in zip(true, pred))
        tn = total - tp - fp - fn
        precision, recall = _safe_div(tp, tp + fp), _safe_div(tp, tp + fn)
        rows.append({"class_name": c, "support": tp + fn, "predicted_support": tp + fp, "true_positive": tp,
                     "false_positive": fp, "false_negative": fn, "true_negative": tn,
                     "accuracy": _safe_div(tp + tn, total), "precision": precision, "recall": recall,
                     "f1": _safe_div(2 * precision * recall, precision + recall), **stats})
    return rows


def macro_f1(true: list[str], pred: list[str], classes: list[str]) -> float:
    return float(np.mean([r["f1"] for r in class_metrics(true, pred, classes, np.zeros(1))]))


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def authors_log(root: Path, stem: str) -> Path | None:
    """The newest ``Logs/<stem>_inference_log_*.csv`` (time-stamped names sort chronologically)."""
    logs = sorted(p for p in (root / "Logs").glob(f"{stem}_inference_log_*.csv")
                  if not p.name.endswith("_class_metrics.csv"))
    return logs[-1] if logs else None


def read_log(path: Path, classes: list[str]) -> dict[str, tuple[str, np.ndarray]]:
    """relative_path → (predicted_label, probabilities in ``classes`` order); errors name the field."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the authors' inference log ({exc})") from exc
    need = ["relative_path", "predicted_label"] + [f"prob_{c}" for c in classes]
    if rows and [c for c in need if c not in rows[0]]:
        raise DataError(f"{path}: missing columns {[c for c in need if c not in rows[0]]}")
    out = {}
    for line, row in enumerate(rows, start=2):
        try:
            probs = np.array([float(row[f"prob_{c}"]) for c in classes])
        except ValueError as exc:
            raise DataError(f"{path}:{line}: a prob_ field is not a number ({exc})") from None
        out[row["relative_path"].replace("\\", "/")] = (row["predicted_label"], probs)
    return out


def reproduce(root: Path, spec: SuiteSpec, out: Path, encoders: list[str] | None = None, tolerance: float = 1e-4,
              batch_size: int = 32, device: str = "cpu", cache_dir: Path | None = None, progress: bool = True,
              overwrite: bool = False, log: Callable[[str], None] = print) -> list[BackboneReport]:
    base = listen.find_release_root(Path(root))
    index = listen.scan(base, spec)
    classes = list(spec.problems[0].tasks)
    release_order = sorted({c.task for c in index.clips if c.release_split == "train"})
    if classes != release_order:
        raise DataError(f"suite {spec.name}: class order {classes} differs from the release's sorted order "
                        f"{release_order}; the released heads' outputs follow the latter")
    test = [c for c in index.clips if c.release_split == "test"]
    test_dir = base / listen.TEST_DIR
    test.sort(key=lambda c: c.path)  # the release: sorted(test_dir.rglob("*.wav"))
    wanted = encoders or list(RELEASE_FILES)
    unknown = [e for e in wanted if e not in RELEASE_FILES]
    if unknown:
        raise DataError(f"--encoder {unknown}: reproduce knows the release's backbones {list(RELEASE_FILES)}")
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / "reproduce.json"
    if summary_path.exists() and not overwrite:
        raise ResultsError(f"{summary_path} exists; pass --overwrite to replace it, or --out to write elsewhere")
    hashes = hash_clips(test, progress)
    frames = {c.path: sf.info(str(c.path)).frames for c in test}
    reports = []
    for enc_name in wanted:
        stem = RELEASE_FILES[enc_name]
        weights, head_file = base / "Models" / f"{stem}.pth", base / "Models" / f"{stem}-classifier.pth"
        absent = [p.name for p in (weights, head_file) if not p.is_file()]
        if absent:
            msg = f"{stem}: {', '.join(absent)} not in {base / 'Models'}"
            if encoders:
                raise DataError(msg + " (absent from some copies of the release)")
            log(f"skipped {msg}")
            continue
        encoder = build_encoder(enc_name, checkpoint=str(weights), device=device)
        head = load_head(head_file, encoder.embedding_dim, len(classes)).to(device)
        cache_root = cache_dir if cache_dir is not None else default_cache_root() / "embeddings"
        ext = extract(encoder, test, spec.audio, cache_root, batch_size, progress, hashes)
        t0 = time.perf_counter()
        with torch.inference_mode():
            probs = torch.softmax(head(torch.as_tensor(ext.embeddings, device=device)), dim=1).cpu().numpy()
        per_clip = (ext.seconds + time.perf_counter() - t0) / max(len(test), 1)
        pred_idx = probs.argmax(axis=1)
        rows, true, pred = [], [], []
        for clip, p, k in zip(test, probs, pred_idx):
            rel = clip.path.relative_to(test_dir).as_posix()
            row = {"backbone": stem, "filepath": str(clip.path), "relative_path": rel,
                   "source_folder": clip.path.parent.name, "filename": clip.path.name, "sample_rate": spec.audio.sample_rate,
                   "num_samples": frames[clip.path], "predicted_index": int(k), "predicted_label": classes[k],
                   "predicted_probability": float(p[k]), "true_index": classes.index(clip.task),
                   "is_correct": classes[k] == clip.task, "inference_time_sec": per_clip,
                   **{f"prob_{c}": float(v) for c, v in zip(classes, p)}}
            rows.append(row)
            true.append(clip.task)
            pred.append(classes[k])
        log_path = out / f"{stem}_inference_log_impact-bench_{len(rows)}.csv"
        metrics_path = log_path.with_name(f"{log_path.stem}_class_metrics.csv")
        _write_csv(log_path, LOG_COLUMNS + [f"prob_{c}" for c in classes], rows)
        _write_csv(metrics_path, METRIC_COLUMNS, class_metrics(true, pred, classes, np.full(len(rows), per_clip)))
        rep = BackboneReport(stem, enc_name, len(rows), macro_f1(true, pred, classes),
                             files={"log": log_path.name, "class_metrics": metrics_path.name})
        theirs_path = authors_log(base, stem)
        if theirs_path is not None:
            theirs = read_log(theirs_path, classes)
            ours = {r["relative_path"]: (r["predicted_label"], probs[i]) for i, r in enumerate(rows)}
            common = sorted(set(ours) & set(theirs))
            rep.log = theirs_path.relative_to(base).as_posix()
            rep.missing_in_ours, rep.missing_in_authors = len(set(theirs) - set(ours)), len(set(ours) - set(theirs))
            diffs = [float(np.abs(ours[k][1] - theirs[k][1]).max()) for k in common]
            rep.max_abs_prob_diff = max(diffs) if diffs else None
            rep.differing_predictions = [k for k in common if ours[k][0] != theirs[k][0]]
            rep.identical_predictions = 1 - len(rep.differing_predictions) / len(common) if common else None
            t_true = [Path(k).parent.name for k in theirs]
            rep.macro_f1_authors = macro_f1(t_true, [v[0] for v in theirs.values()], classes)
            rep.passed = (not rep.missing_in_ours and not rep.missing_in_authors and rep.max_abs_prob_diff is not None
                          and rep.max_abs_prob_diff <= tolerance and not rep.differing_predictions)
        reports.append(rep)
        log(f"{stem:>18}: {len(rows)} clips, macro-F1 ours {rep.macro_f1_ours:.4f}"
            + ("" if rep.log is None else
               f" vs authors' {rep.macro_f1_authors:.4f}; max |Δp| {rep.max_abs_prob_diff:.2e}; identical "
               f"predictions {rep.identical_predictions:.2%}; {'PASS' if rep.passed else 'FAIL'}"))
    if not reports:
        raise DataError(f"no released backbone found in {base / 'Models'} (expected <name>.pth and "
                        f"<name>-classifier.pth for {', '.join(RELEASE_FILES.values())})")
    summary = {"suite": [spec.name, spec.version], "data_root": str(base), "tolerance": tolerance,
               "class_order": classes, "test_clips": len(test), "backbones": [asdict(r) for r in reports]}
    tmp = summary_path.with_name(summary_path.name + ".tmp")
    tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    tmp.replace(summary_path)
    return reports
