"""DCASE 2025 supplementary recordings (``<machine>/supplemental/``) and the ways a run may use them.

The 2025 release adds, per machine type, recordings that are neither training nor test clips: clean
machine sounds (no factory noise) and noise-only clips of the recording site (DCASE 2025 task
description, arXiv 2506.10097, which counts the "use of clean machine and noise sounds" among the
competitive approaches). ``--supplementary`` (``RunRequest.supplementary``) chooses:

- ``ignore`` (default): listed and counted (``suite.supplemental``), never fitted on — every earlier
  result stays as it was.
- ``bank``: each clean machine recording joins its section's *source*-domain detector bank (the
  target bank when its name says ``target``). The decision threshold still comes from the real
  training clips' scores only.
- ``noise-norm``: each score is corrected for how noise-dominated the clip is. With N the section's
  noise-only clips and ``d_N(x) = min_n dist(x, n)`` (the back end's metric, cosine by default) the
  distance of a clip to its nearest noise-only clip, a least-squares line ``s ≈ a + b · d_N`` is fitted
  over the section's *training* clips (their leave-one-out scores, as the threshold uses), and every
  score becomes ``s − b · (d_N(x) − mean d_N(training clips))``: the part of the score that the clip's
  closeness to pure noise explains among normal clips is removed; what is left is deviation that noise
  does not explain. The centring keeps the training clips' mean score (the score's level) unchanged,
  so the threshold fit and the pooled evaluation see scores on the plain run's scale.
  Rationale: a normal clip recorded under louder noise sits both closer to the noise-only clips and
  farther from the (noisy) training bank, so raw distances partly measure the SNR; the fit learns the
  sign and size of that dependence from normal clips alone (no test statistics, no labels) — a cohort
  normalisation in the sense of speaker verification, with the noise-only clips as the cohort and a
  fitted instead of an assumed (b = ±1, "subtract the noise distance") slope. When the training clips'
  noise distances do not vary, b = 0 (a constant shift). The task description's abstract gives no
  scoring rule for these clips; the definition is ours (docs/anomaly.md).

A section without the kind of recording its mode needs keeps its plain scores; the results record, per
section, what was used (``sets.<set>.supplementary``). A mode other than ``ignore`` needs at least one
such recording among the scored machine types, else a clear error.

File names (the kind is read from the words before the 4-digit index; anything else is an error naming
the file): ``section_00_machine_0001_.wav`` (nttcslab/dcase2023_task2_baseline_ae README_legacy.md,
DCASE2025 layout); ``section_00_source_supplemental_machine_0000.wav`` and
``section_00_noise_supplemental_normal_0000.wav`` (a participant's public loader); the form
``section_00_noise_NNNN_.wav`` is accepted by analogy (not seen in a source).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from impact_bench.anomaly.dataset import AsdClip
from impact_bench.errors import DataError

MODES = ("ignore", "bank", "noise-norm")
YEARS = (2025,)  # releases with supplemental/ folders; the 2026 baseline lists none (README.md, commit 9b64dc4)
SPLIT = "supplemental"
_INDEX = re.compile(r"^\d{4}$")


def supports(layout: str, year: int | None) -> bool:
    """Whether a suite's release ships supplementary recordings."""
    return layout == "dcase" and year in YEARS


@dataclass(frozen=True)
class SupplementaryClip(AsdClip):
    """A clip of ``<machine>/supplemental/``: ``split = "supplemental"``, never a training or test clip."""

    kind: str = "machine"  # "machine" (clean machine recording) | "noise" (noise only)


def parse_name(name: str) -> tuple[str, str, str | None] | None:
    """``section_XX_…_NNNN[_attrs].wav`` → (unit ``section_XX``, kind, domain or None); None if not one."""
    if not name.endswith(".wav"):
        return None
    tokens = name[:-4].split("_")
    if len(tokens) < 4 or tokens[0] != "section" or not re.fullmatch(r"\d{2}", tokens[1]):
        return None
    head: list[str] = []
    for tok in tokens[2:]:
        if _INDEX.fullmatch(tok):
            break
        head.append(tok)
    else:
        return None  # no 4-digit index
    kind = "noise" if "noise" in head else "machine" if "machine" in head else None
    if kind is None:
        return None
    domain = "target" if "target" in head else "source" if "source" in head else None
    return f"section_{tokens[1]}", kind, domain


def scan(clips: list[AsdClip], root: Path) -> list[SupplementaryClip]:
    """Every ``supplemental/*.wav`` beside the scored machine types' ``train/`` folders."""
    dirs: dict[tuple[str, str], Path] = {}
    for c in clips:
        if c.split == "train":
            dirs.setdefault((c.set, c.machine), c.path.parent.parent)
    units = {(c.set, c.machine, c.unit) for c in clips}
    out: list[SupplementaryClip] = []
    bad: list[Path] = []
    for (set_name, machine), mdir in sorted(dirs.items()):
        for path in sorted((mdir / SPLIT).glob("*.wav")):
            parsed = parse_name(path.name)
            if parsed is None:
                bad.append(path)
                continue
            unit, kind, domain = parsed
            if (set_name, machine, unit) not in units:
                raise DataError(f"{path}: {unit} has no training or test clips under {mdir}")
            try:
                rel = path.relative_to(root).as_posix()
            except ValueError:
                rel = path.as_posix()
            out.append(SupplementaryClip(path, rel, set_name, machine, unit, SPLIT, domain,
                                         "normal" if kind == "machine" else None, None, kind=kind))
    if bad:
        raise DataError(f"{len(bad)} supplemental file(s) match no DCASE 2025 supplementary name "
                        f"(section_XX_[…_]machine|noise[_…]_NNNN[_attrs].wav), e.g. {', '.join(map(str, bad[:3]))}")
    return out


def require(mode: str, found: list[SupplementaryClip], suite: str) -> dict[str, int]:
    """The counts by kind; an error when ``mode`` needs a kind that none of the scored machines has."""
    counts = {"machine": sum(c.kind == "machine" for c in found), "noise": sum(c.kind == "noise" for c in found)}
    need = {"bank": "machine", "noise-norm": "noise"}.get(mode)
    if need and not counts[need]:
        what = "clean machine recordings (section_XX_…machine…_NNNN.wav)" if need == "machine" else \
            "noise-only recordings (section_XX_…noise…_NNNN.wav)"
        raise DataError(f"--supplementary {mode} (suite {suite}): no {what} in any <machine>/supplemental/ folder "
                        f"of the scored machine types")
    return counts


def bank_clips(clips: list[Any], supp: list[int]) -> list[int]:
    """The clean machine recordings among ``supp`` (indices into ``clips``), for the detector bank."""
    bad = [clips[i].relpath for i in supp if getattr(clips[i], "split", None) != SPLIT]
    if bad:
        raise AssertionError(f"not supplementary clips: {bad[:3]}")
    return [i for i in supp if getattr(clips[i], "kind", None) == "machine"]


def noise_clips(clips: list[Any], supp: list[int]) -> list[int]:
    return [i for i in supp if getattr(clips[i], "kind", None) == "noise"]


def noise_distances(noise: np.ndarray, queries: np.ndarray, metric: str, chunk: int) -> np.ndarray:
    """Distance of every query to its nearest noise-only clip (exact; the back end's metric)."""
    from impact_bench.anomaly.knn import knn_distances  # noqa: PLC0415 (torch; only when the mode is used)
    return knn_distances(np.asarray(noise, dtype=np.float32), np.asarray(queries, dtype=np.float32), 1, metric,
                         chunk)[:, 0].astype(np.float64)


def noise_fit(s_train: np.ndarray, d_train: np.ndarray) -> tuple[float, float]:
    """Least-squares (intercept a, slope b) of training scores on noise distances; b = 0 when d is constant."""
    s, d = np.asarray(s_train, dtype=np.float64), np.asarray(d_train, dtype=np.float64)
    var = float(np.mean((d - d.mean()) ** 2))
    b = 0.0 if len(d) < 2 or var <= 1e-18 else float(np.mean((d - d.mean()) * (s - s.mean())) / var)
    return float(s.mean() - b * d.mean()), b


def noise_normalise(s_test: np.ndarray, s_train: np.ndarray, d_test: np.ndarray, d_train: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """``s − b · (d_N − mean d_N_train)`` for test and training scores, b fitted on the training clips."""
    a, b = noise_fit(s_train, d_train)
    centre = float(np.mean(d_train))
    return (np.asarray(s_test) - b * (np.asarray(d_test) - centre),
            np.asarray(s_train) - b * (np.asarray(d_train) - centre),
            {"intercept": a, "slope": b, "noise_distance_mean": centre})
