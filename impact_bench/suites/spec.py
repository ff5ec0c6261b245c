"""Schema of a suite definition file (``tasks/*.yaml``) and its loader.

A suite is data, not code: which tasks exist, how they group into probe problems, how clips are
cut and normalised, and which protocol scores them. Files are validated on load; any problem is
reported as a :class:`TaskFileError` naming the file and the dotted field path.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from impact_bench.errors import TaskFileError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskSpec(_Strict):
    """One downstream task (one class of a probe problem), e.g. T12."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # DINOS: T1…T30; LISTEN on-site: class names
    machine: str
    sensor: str
    description: str
    samples: int = Field(gt=0, description="published clip count (Table 2)")
    cutting_depth_mm: Optional[float] = None
    mrr: Optional[float] = None
    rpm: Optional[int] = None
    chatter: Optional[Literal["Y", "N"]] = None
    folder_number: Optional[int] = Field(default=None, ge=0)
    aliases: tuple[str, ...] = ()


class ProblemSpec(_Strict):
    """A probe problem: one classifier head over several tasks (its classes)."""

    name: str
    machine: str
    tasks: tuple[str, ...] = Field(min_length=2)
    note: str = ""


class AudioSpec(_Strict):
    sample_rate: int = Field(gt=0)
    clip_seconds: float = Field(gt=0)
    clip_policy: Literal["first", "center", "windows"] = "first"  # windows: whole clip, windowed + mean-pooled
    # rms-zscore: population std (DINOS default); rms-zscore-ddof1: torch's unbiased x.std(), as the
    # LISTEN release's dataset code computes it; none
    waveform_norm: Literal["rms-zscore", "rms-zscore-ddof1", "none"] = "rms-zscore"
    channel: Optional[int] = Field(default=None, ge=0)  # None: mean downmix; k: that channel only
    # every file must have exactly this many channels (None: any count); another count is an error naming
    # the file (extract.load_for_encoder). DCASE: 1 for 2020–2025, 2 for 2026 (set from data.year)
    channels: Optional[int] = Field(default=None, ge=1)
    # near/far-microphone stereo (DCASE 2026: left = near mic, as the earlier mono; right = far mic):
    # near = channel 0 (the official baseline's choice), far = channel 1, mean = downmix, both = the
    # two channels embedded separately and concatenated [near, far] (twice the encoder's dimension)
    channel_policy: Optional[Literal["near", "far", "mean", "both"]] = None

    @model_validator(mode="after")
    def _channel_policy(self) -> "AudioSpec":
        if self.channel_policy is not None and (self.channels != 2 or self.channel is not None):
            raise ValueError("channel_policy: needs channels: 2 (a near/far stereo suite) and no 'channel'")
        return self


class ProbeHyperparameters(_Strict):
    """The paper's probe head and optimiser; defaults are the paper's (§5.1, §5.2) and the authors' code."""

    seeds: int = Field(default=10, ge=1)
    train_fraction: float = Field(default=0.2, gt=0, lt=1)
    hidden: int = Field(default=256, ge=1)
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=0.05, ge=0)
    batch_size: int = Field(default=32, ge=1)
    max_epochs: int = Field(default=100, ge=1)
    lr_min: float = Field(default=1e-6, ge=0)
    patience: int = Field(default=10, ge=1)
    grad_clip: float = Field(default=1.0, gt=0)


class ProbeSpec(ProbeHyperparameters):
    """A classification suite's probe protocol: split scheme, head, and the paper head's settings."""

    # paper: pool the release's train + test clips, stratified re-split per seed; official: the release's
    # own train/test folders (seeds vary head init and batch order only)
    split: Literal["paper", "official"] = "paper"
    # paper: the IMPACT paper's 256-unit probe; listen: the LISTEN release's head and training recipe
    head: Literal["paper", "listen"] = "paper"


class DataSpec(_Strict):
    layout: Literal["dinos-release", "listen-release"]
    env_var: str
    published_at: tuple[str, ...] = ()
    generator: Optional[str] = None  # name of the synthetic generator writing this layout


class ReferenceSpec(_Strict):
    per_problem: Optional[str] = None
    per_task: Optional[str] = None
    # per-problem rows of other publications on the same tasks, shown beside (per-machine table only)
    also_per_problem: tuple[str, ...] = ()
    description: str = ""


class _SuiteHeader(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str
    title: str
    synthetic: bool
    comparable_to: str  # suites whose scores may share a table (same tasks, real data)
    # the summary entry that is this suite's headline number: classification "mean_macro_f1" (mean of the
    # problems' macro-F1); anomaly: a set name (e.g. "eval") or "mean" (mean of the scored sets' scores)
    main_score: Optional[str] = None
    source_file: str = ""

    @model_validator(mode="after")
    def _main_score(self) -> "_SuiteHeader":
        if self.main_score is None:
            object.__setattr__(self, "main_score", "mean_macro_f1" if getattr(self, "kind", "") == "classification"
                               else "mean")
        return self


class SuiteSpec(_SuiteHeader):
    kind: Literal["classification"]
    data: DataSpec
    audio: AudioSpec
    probe: ProbeSpec = ProbeSpec()
    reference: ReferenceSpec = ReferenceSpec()
    problems: tuple[ProblemSpec, ...] = Field(min_length=1)
    tasks: tuple[TaskSpec, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _cross_check(self) -> "SuiteSpec":
        ids = [t.id for t in self.tasks]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"tasks: duplicate ids {dup}")
        seen: dict[str, str] = {}
        for p in self.problems:
            for tid in p.tasks:
                if tid not in ids:
                    raise ValueError(f"problems.{p.name}.tasks: unknown task {tid!r}")
                if tid in seen:
                    raise ValueError(f"problems.{p.name}.tasks: {tid} already in problem {seen[tid]}")
                seen[tid] = p.name
        missing = [i for i in ids if i not in seen]
        if missing:
            raise ValueError(f"problems: tasks {missing} belong to no problem")
        return self

    def task(self, task_id: str) -> TaskSpec:
        return next(t for t in self.tasks if t.id == task_id)

    def problem_of(self, task_id: str) -> ProblemSpec:
        return next(p for p in self.problems if task_id in p.tasks)


class BackendSpec(_Strict):
    """Anomaly back end on frozen embeddings (``impact_bench.anomaly.backends``)."""

    name: Literal["knn", "kmeans", "lof", "gmm", "mahalanobis", "knn-kmeans", "knn-smote", "knn-rescale",
                  "local-density"] = "knn"
    k: int = Field(default=1, ge=1)                      # RMIS / GenRep: k = 1
    metric: Literal["cosine", "euclidean"] = "cosine"    # RMIS: cosine
    n_clusters: int = Field(default=16, ge=1)            # ASDKit Kmeans default.yaml: 16
    n_components: int = Field(default=2, ge=1)
    normalise: Literal["none", "train-loo", "test-z"] = "none"
    cov: Literal["ledoit-wolf", "empirical", "oas"] = "ledoit-wolf"  # mahalanobis (anomaly/backends_extra.py)
    smote_ratio: float = Field(default=0.2, gt=0, le=1)  # knn-smote: ASDKit config/score default.yaml
    smote_neighbors: int = Field(default=2, ge=1)        # knn-smote: ASDKit config/score default.yaml
    k_ref: Optional[int] = Field(default=None, ge=1)     # None: knn-rescale 4 (ASDKit), local-density 1 (MERL)
    density: Literal["ratio", "difference"] = "ratio"    # local-density: MERL conf.yaml norm_type
    # cosine KNN search (knn, kmeans, knn-kmeans): the exact bf16 screen (anomaly/knn.py) "on", "off", or
    # "auto" (on for banks of ≥ 4,096 clips where a bf16 matmul measures 2× faster; results record the outcome)
    screen: Literal["auto", "on", "off"] = "auto"


class SupervisedSpec(ProbeHyperparameters):
    """MIMII protocol (b), the MIMII SNR report §3: one binary normal/abnormal problem per (SNR, machine
    type), stratified 80/20 split ("8:2 … random shuffling within each class"), the paper's probe head
    on frozen embeddings; the Youden-index cut point as a second operating point (report §5-2)."""

    train_fraction: float = Field(default=0.8, gt=0, lt=1)  # report §3.2: train:test = 8:2
    # where the Youden cut point comes from: "validation" — a stratified quarter of each seed's training
    # split, scored by a head fitted on the other three quarters (nothing from the test split);
    # "test" — the test split's own ROC, as the report picks its 0.102 (test-tuned; flagged)
    youden_from: Literal["validation", "test"] = "validation"


class AnomalyProtocolSpec(_Strict):
    # unsupervised: normal-only training banks, back end, official metrics (DCASE, MIMII (a), DINOS);
    # supervised: MIMII protocol (b), labelled normal + abnormal clips, probe classifier
    scheme: Literal["unsupervised", "supervised"] = "unsupervised"
    supervised: SupervisedSpec = SupervisedSpec()
    backend: BackendSpec = BackendSpec()
    # min: separate source and target detectors, score = min (DCASE 2022+); pooled: one detector on
    # every training clip of the unit (2020, 2021 — RMIS ``domsp: none``; MIMII; DINOS)
    domains: Literal["min", "pooled"] = "min"
    threshold: Literal["gamma", "percentile"] = "gamma"  # dcase2021/2022 baselines: gamma.ppf(0.9)
    threshold_q: float = Field(default=0.9, gt=0, lt=1)
    sets: tuple[str, ...] = ("dev", "eval")              # DCASE: dev_data/, eval_data/; MIMII: SNR folders


class AnomalyDataSpec(_Strict):
    layout: Literal["dcase", "mimii", "dinos-anomaly"]
    year: Optional[int] = None                           # DCASE edition (file-name rules, metrics)
    env_var: str
    published_at: tuple[str, ...] = ()
    generator: Optional[str] = None
    machines: dict[str, tuple[str, ...]] = {}            # set → machine types the release has

    @model_validator(mode="after")
    def _year(self) -> "AnomalyDataSpec":
        if self.layout == "dcase" and self.year not in (2020, 2021, 2022, 2023, 2024, 2025, 2026):
            raise ValueError("year: a dcase layout needs year 2020-2026")
        return self


class AnomalyReferenceSpec(_Strict):
    published: Optional[str] = None  # leaderboards/published/<file>.csv rows for this suite
    description: str = ""


class AnomalySuiteSpec(_SuiteHeader):
    """An anomalous-sound-detection suite: normal-only training clips, KNN-style back ends, AUC/pAUC."""

    kind: Literal["anomaly"]
    data: AnomalyDataSpec
    audio: AudioSpec
    protocol: AnomalyProtocolSpec = AnomalyProtocolSpec()
    reference: AnomalyReferenceSpec = AnomalyReferenceSpec()

    @model_validator(mode="after")
    def _dcase_channels(self) -> "AnomalySuiteSpec":
        """DCASE releases: mono 2020–2025, near/far stereo 2026 (nttcslab/dcase2023_task2_baseline_ae README,
        "Dataset audio format"); a suite file may state ``audio.channels`` itself, but not another count."""
        if self.data.layout != "dcase":
            return self
        want = 2 if self.data.year == 2026 else 1
        if self.audio.channels not in (None, want):
            raise ValueError(f"audio.channels: DCASE {self.data.year} files have {want} channel(s)")
        update: dict[str, Any] = {"channels": want}
        if want == 2 and self.audio.channel_policy is None:
            update["channel_policy"] = "near"  # the official baseline reads channel 0 (loader_common.file_load)
        object.__setattr__(self, "audio", AudioSpec.model_validate({**self.audio.model_dump(), **update}))
        return self


AnySuite = SuiteSpec | AnomalySuiteSpec


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# libyaml's safe loader when PyYAML was built with it (same safe subset, ~5x faster: `list suites` and every
# run read all of tasks/*.yaml); the pure-Python one otherwise
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except OSError as exc:
        raise TaskFileError(f"{path}: cannot read suite file ({exc})") from exc
    except yaml.YAMLError as exc:
        raise TaskFileError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise TaskFileError(f"{path}: expected a mapping at top level, got {type(raw).__name__}")
    return raw


def load_suite_file(path: Path, _depth: int = 0) -> AnySuite:
    """Load and validate one suite file; ``extends: other.yaml`` merges over a sibling file."""
    raw = _read_yaml(path)
    parent = raw.pop("extends", None)
    if parent is not None:
        if _depth > 4:
            raise TaskFileError(f"{path}: field 'extends' nests too deeply")
        parent_path = path.parent / str(parent)
        if not parent_path.is_file():
            raise TaskFileError(f"{path}: field 'extends' names {parent!r}, which does not exist")
        base = load_suite_file(parent_path, _depth + 1).model_dump(exclude={"source_file"})
        raw = _merge(base, raw)
    raw["source_file"] = str(path)
    model = AnomalySuiteSpec if raw.get("kind") == "anomaly" else SuiteSpec
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            problems.append(f"field '{loc}': {err['msg']}")
        raise TaskFileError(f"{path}: invalid suite definition\n  " + "\n  ".join(problems)) from None
