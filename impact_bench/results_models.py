"""Pydantic models of the results file (schema 1.2), one per suite kind.

Every file is written and read through these (``results.validate_results``): scores must be finite
and within [0, 1], counts integers, the required blocks present; any other field is kept as it is
(``extra="allow"``), so a reader never loses what a newer writer added. Upgrading 1.0 / 1.1 files
happens before validation (``results.upgrade``).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

Score = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class MeanStd(_Open):
    mean: Score
    std: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]  # population std over seeds (ddof 0)


class SeedResult(_Open):
    seed: int
    macro_f1: Score
    accuracy: Score
    balanced_accuracy: Score
    per_task_f1: dict[str, Score]
    epochs: int
    final_train_loss: Annotated[float, Field(allow_inf_nan=False)]
    n_train: int = Field(ge=1)
    n_test: int = Field(ge=1)
    test_idx: Optional[list[int]] = None  # 1.2: positions of the test clips in the problem's clip order
    y_pred: Optional[list[int]] = None    # 1.2: predicted class per test clip (same order as test_idx)


class ProblemResult(_Open):
    name: str
    machine: str
    tasks: list[str]
    n_clips: int = Field(ge=1)
    macro_f1: MeanStd
    accuracy: MeanStd
    balanced_accuracy: MeanStd
    per_task_f1: dict[str, MeanStd]
    confusion_matrix: list[list[int]]
    seeds: list[SeedResult] = Field(min_length=1)
    y_true: Optional[list[int]] = None       # 1.2: class index per clip of the problem
    clips_sha256: Optional[str] = None       # 1.2: hash of the clips' order (runs pair only when equal)


class Coverage(_Open):
    complete: bool
    inferred: bool = False  # True: derived on upgrade from a 1.0 / 1.1 file
    declared: Optional[dict[str, Any]] = None
    held: dict[str, Any]
    missing: dict[str, Any] = {}
    summary: str = ""


class SuiteInfo(_Open):
    name: str
    version: str
    title: str
    synthetic: bool
    comparable_to: str
    main_score: Optional[str] = None
    data_root: str
    data_fingerprint: dict[str, Any]
    subset: bool
    notices: list[str] = []


class EncoderInfo(_Open):
    name: str
    version: str
    label: Optional[str] = None


class _Header(_Open):
    schema_version: Literal["1.2"]
    status: Literal["complete"]
    run_fingerprint: str
    encoder: EncoderInfo
    suite: SuiteInfo
    protocol: dict[str, Any]
    coverage: Coverage
    options: dict[str, Any]
    extraction: dict[str, Any]
    timings: dict[str, Annotated[float, Field(allow_inf_nan=False)]]
    provenance: dict[str, Any]


class ClassificationSummary(_Open):
    mean_macro_f1: Score


class ClassificationResults(_Header):
    kind: Literal["classification"]
    problems: list[ProblemResult] = Field(min_length=1)
    summary: ClassificationSummary


class UnitClips(_Open):
    """1.2 (optional): one unit of detection's test clips, parallel lists in the submission's row order."""
    names: list[str]
    labels: list[Annotated[int, Field(ge=0, le=1)]]                 # 0 normal / 1 anomaly
    domains: list[Optional[Annotated[int, Field(ge=0, le=1)]]]      # 0 source / 1 target / null
    scores: list[Annotated[float, Field(allow_inf_nan=False)]]     # the submission CSV's anomaly scores
    decisions: Optional[list[Annotated[int, Field(ge=0, le=1)]]] = None  # the decision CSV's 0/1 (2021+)

    @model_validator(mode="after")
    def _parallel(self) -> "UnitClips":
        n = len(self.names)
        if not (len(self.labels) == len(self.domains) == len(self.scores) == n):
            raise ValueError(f"names, labels, domains, scores must have one entry per clip ({n}), got "
                             f"{len(self.labels)}, {len(self.domains)}, {len(self.scores)}")
        if self.decisions is not None and len(self.decisions) != n:
            raise ValueError(f"decisions must have one entry per clip ({n}), got {len(self.decisions)}")
        return self


class DomainMetrics(_Open):
    """1.2 (optional): ASDKit's domain AUCs of one section or total (anomaly/extra_metrics.py); not official."""
    s_auc: Optional[Score] = None
    s_pauc: Optional[Score] = None
    t_auc: Optional[Score] = None
    t_pauc: Optional[Score] = None
    mix_auc: Optional[Score] = None
    mix_pauc: Optional[Score] = None
    smix_auc: Optional[Score] = None
    tmix_auc: Optional[Score] = None


class ExtraMetrics(_Open):
    """1.2 (optional): ``sets.<set>.extra_metrics`` — per machine type ``{sections: {…: DomainMetrics},
    total: DomainMetrics}``, and the set's total."""
    official: Literal[False] = False
    total: DomainMetrics
    machines: dict[str, Any] = {}


class PooledEvaluation(_Open):
    """1.2 (optional): ``sets.<set>.pooled`` — one machine-agnostic detector over the set; not official."""
    official: Literal[False] = False
    auc: Score
    pauc: Score
    rule_score: Optional[Score] = None
    domain_metrics: Optional[DomainMetrics] = None


class AnomalySet(_Open):
    scored: bool = True
    official_score: Optional[Score] = None
    machines: dict[str, Any] = {}
    clips: Optional[dict[str, dict[str, UnitClips]]] = None  # 1.2 (optional): machine → unit → per-clip data
    extra_metrics: Optional[ExtraMetrics] = None  # 1.2 (optional): ASDKit s/t/mix AUCs (not the official score)
    pooled: Optional[PooledEvaluation] = None     # 1.2 (optional): pooled, machine-agnostic evaluation
    supplementary: Optional[dict[str, Any]] = None  # 1.2 (optional): what --supplementary used, per unit


class AnomalyResults(_Header):
    kind: Literal["anomaly"]
    sets: dict[str, AnomalySet] = Field(min_length=1)
    summary: dict[str, Optional[Score]]


def model_for(kind: str) -> type[_Header]:
    return AnomalyResults if kind == "anomaly" else ClassificationResults
