"""What an encoder was trained on, in terms the benchmark's suites can be checked against.

A :class:`Corpus` entry on an encoder card (``impact_bench.encoders.cards``) names the data a set of weights
saw, the *suite families* whose source recordings it contains, and how it relates to those suites'
benchmark clips: ``"disjoint"`` (the source says the benchmark clips were left out), ``"included"``, or
``"unknown"`` (the source does not say). Leaderboards use it to mark results that are not zero-shot.

Suite families (``FAMILIES``) are the real recordings behind the suites, not the suite names: DCASE 2020
Task 2 took its fan, pump, slider and valve clips from MIMII (and ToyCar/ToyConveyor from ToyADMOS), so a
model that saw MIMII saw part of ``dcase2020``'s source (:func:`suite_families`). Synthetic suites have no
family: no encoder can have seen audio generated at run time.

This module imports neither torch nor numpy.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

SuiteFamily = Literal["dinos", "dcase", "mimii", "listen"]
ClipRelation = Literal["disjoint", "unknown", "included"]

FAMILIES: dict[str, str] = {
    "dinos": "DINOS recordings (Harvard Dataverse DOI 10.7910/DVN/FWAZBQ; Kaggle mirror): suites dinos, dinos-anomaly",
    "dcase": "DCASE Task 2 (2020-2025) development and evaluation recordings (Zenodo): suites dcase2020 ... dcase2025",
    "mimii": "MIMII (Zenodo 3384388): suites mimii, mimii-supervised, and the fan/pump/slider/valve clips of "
             "dcase2020 (DCASE 2020 Task 2 took them from MIMII; ToyCar/ToyConveyor from ToyADMOS)",
    "listen": "the LISTEN release's on-site CNC recordings (github.com/hanprd/LISTEN, Datasets/): suite listen-onsite; "
              "recorded on a live CNC machine for the LISTEN study, a collection separate from DINOS (LISTEN README, "
              "'Data Availability')",
}

# how strongly a relation argues against a zero-shot reading, weakest first
_STRENGTH = {"disjoint": 0, "unknown": 1, "included": 2}


class Corpus(BaseModel):
    """One body of training data behind an encoder's weights."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    stage: Literal["pre-training", "fine-tuning", "distillation", "training"]
    families: frozenset[SuiteFamily] = frozenset()   # suite families whose source recordings it contains
    benchmark_clips: Optional[ClipRelation] = None   # relation to those suites' benchmark clips (iff families)
    condition: str = ""  # set when only some checkpoints of the encoder saw it (e.g. a DINOS fine-tune)
    source: str = Field(min_length=1)                # public source of these facts (paper section, README)
    note: str = ""

    @model_validator(mode="after")
    def _relation_iff_families(self) -> "Corpus":
        if bool(self.families) != (self.benchmark_clips is not None):
            raise ValueError(f"corpus {self.name!r}: benchmark_clips is required exactly when families is not empty")
        return self

    def relation_text(self) -> str:
        """How this corpus relates to the benchmark clips of its families, in words."""
        return {"disjoint": "same source, disjoint clips", "unknown": "same source, clips not stated",
                "included": "the benchmark clips themselves"}.get(self.benchmark_clips or "", "no suite's source data")


class Cost(BaseModel):
    """Size and compute, measured by ``scripts/measure_card_costs.py`` (None: not a torch network)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    parameters: Optional[int] = Field(default=None, ge=0)
    macs_per_clip: Optional[int] = Field(default=None, ge=0)  # one 1-s clip at the encoder's sample rate
    note: str = ""


def strongest(corpora: tuple[Corpus, ...], families: frozenset[str] | set[str]) -> Optional[Corpus]:
    """The corpus that argues most strongly that these suite families' data were seen (None: none were)."""
    hits = [c for c in corpora if c.families & set(families)]
    return max(hits, key=lambda c: _STRENGTH[c.benchmark_clips or "disjoint"]) if hits else None


def suite_families(layout: Optional[str], year: Optional[int] = None, synthetic: bool = False) -> frozenset[str]:
    """The suite families whose real recordings a suite's data layout reads (empty for synthetic data or an
    unknown layout)."""
    if synthetic or not layout:
        return frozenset()
    if layout == "dcase":
        return frozenset({"dcase", "mimii"}) if year == 2020 else frozenset({"dcase"})
    return frozenset({"dinos-release": {"dinos"}, "dinos-anomaly": {"dinos"}, "listen-release": {"listen"},
                      "mimii": {"mimii"}}.get(layout, set()))
