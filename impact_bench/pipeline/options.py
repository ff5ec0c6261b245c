"""What a run is asked to do: common options plus one option group per suite kind.

An option given for a suite whose kind does not use it is refused, naming the option and the
suite's kind (never silently ignored); every option that was applied is recorded in the results
file (``options``). Defaults live once, in the suite file; these fields only override them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from impact_bench.errors import ImpactBenchError
from impact_bench.suites.spec import AnomalySuiteSpec, AnySuite


class OptionError(ImpactBenchError):
    """An option that does not apply to the chosen suite, or an invalid combination."""


@dataclass
class RunRequest:
    # common to every suite kind
    encoder: str
    suite: str
    out: Path = Path("results")
    data_root: Path | None = None
    checkpoint: str | None = None
    encoder_options: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    batch_size: int = 32
    cache_dir: Path | None = None
    use_cache: bool = True
    overwrite: bool = False
    autoload_plugins: bool = True
    progress: bool = True
    tasks_dirs: tuple[str, ...] = ()
    label: str | None = None  # run name in file names and leaderboards (default: the encoder's name)
    strict: bool = False      # suspect audio (impact_bench/audio_notices.py) is an error, not a notice
    # classification (and, where marked, supervised anomaly) suites; None / empty = the suite's default
    seeds: int | None = None                 # also supervised anomaly
    max_clips_per_class: int | None = None
    split: str | None = None                 # "paper" | "official"
    probe: str | None = None                 # "paper" | "listen"
    class_map: Path | None = None            # dinos-release layout only
    standardize: bool = False                # also supervised anomaly
    # unsupervised anomaly suites
    ground_truth: Path | None = None         # official evaluator folder of the eval set
    backend: dict[str, Any] = field(default_factory=dict)  # overrides of the suite's back end
    toy2022: str | None = None               # DCASE 2022 only: "evaluator" (default) | "attributes"
    machines: tuple[str, ...] = ()           # also supervised anomaly: score only these machine types
    backend_from: Path | None = None         # selection file of `impact-bench select-backend` (dev-set choice)
    channel: str | None = None               # near/far stereo suites (DCASE 2026): near | far | mean | both
    supplementary: str | None = None         # DCASE 2025: ignore (default) | bank | noise-norm (supplemental/ clips)


FLAGS = {"seeds": "--seeds", "max_clips_per_class": "--max-clips-per-class", "split": "--split", "probe": "--probe",
         "class_map": "--class-map", "standardize": "--standardize", "ground_truth": "--ground-truth",
         "backend": "--backend-opt", "toy2022": "--toy2022", "machines": "--machines",
         "backend_from": "--backend-from", "channel": "--channel",
         "supplementary": "--supplementary"}
KIND_OPTIONS: dict[str, tuple[str, ...]] = {
    "classification": ("seeds", "max_clips_per_class", "split", "probe", "class_map", "standardize"),
    "anomaly": ("ground_truth", "backend", "toy2022", "machines", "backend_from", "channel", "supplementary"),
    "supervised anomaly": ("seeds", "standardize", "machines"),
}


def suite_kind(spec: AnySuite) -> str:
    if isinstance(spec, AnomalySuiteSpec):
        return "supervised anomaly" if spec.protocol.scheme == "supervised" else "anomaly"
    return "classification"


def given(req: RunRequest) -> dict[str, Any]:
    """The kind-specific options the user set (anything not at its unset value)."""
    out = {}
    for name in FLAGS:
        value = getattr(req, name)
        if value not in (None, False, (), {}, []):
            out[name] = str(value) if isinstance(value, Path) else (list(value) if isinstance(value, tuple) else value)
    return out


def check_supplementary(mode: str, spec: AnySuite) -> None:
    """--supplementary: a known mode, on a suite whose release ships supplemental/ recordings."""
    from impact_bench.anomaly.supplementary import MODES, YEARS, supports  # noqa: PLC0415
    if mode not in MODES:
        raise OptionError(f"--supplementary must be one of {', '.join(MODES)}, got {mode!r}")
    if not supports(spec.data.layout, getattr(spec.data, "year", None)):
        raise OptionError(f"--supplementary does not apply to suite {spec.name}: it has no supplementary "
                          f"recordings (DCASE {', '.join(map(str, YEARS))} only)")


def check_options(req: RunRequest, spec: AnySuite) -> dict[str, Any]:
    """Refuse options the suite's kind does not use; return the applied ones (for the results file)."""
    kind = suite_kind(spec)
    applied = given(req)
    wrong = [FLAGS[k] for k in applied if k not in KIND_OPTIONS[kind]]
    if wrong:
        allowed = ", ".join(FLAGS[k] for k in KIND_OPTIONS[kind])
        raise OptionError(f"{', '.join(wrong)} {'does' if len(wrong) == 1 else 'do'} not apply to suite {spec.name} "
                          f"(kind: {kind}); options for {kind} suites: {allowed}")
    if req.class_map is not None and spec.data.layout != "dinos-release":
        raise OptionError(f"--class-map does not apply to suite {spec.name}: its classes come from its "
                          f"{spec.data.layout} layout, not from folder names")
    if req.machines and spec.data.layout == "dinos-anomaly":
        raise OptionError(f"--machines does not apply to suite {spec.name}: its two tasks (Yornew, ColdSpray) are "
                          f"always scored together")
    if req.toy2022 is not None and getattr(spec.data, "year", None) != 2022:
        raise OptionError(f"--toy2022 does not apply to suite {spec.name}: it applies to DCASE 2022 suites only")
    if req.channel is not None:
        check_channel(req, spec)
    if req.supplementary is not None:
        check_supplementary(req.supplementary, spec)
    if req.seeds is not None and req.seeds < 1:
        raise OptionError(f"--seeds must be ≥ 1, got {req.seeds}")
    if Path(req.out).exists() and not Path(req.out).is_dir():
        raise OptionError(f"--out {req.out}: is a file; --out names the folder results are written to")
    if req.batch_size < 1:
        raise OptionError(f"--batch-size must be ≥ 1, got {req.batch_size}")
    if req.max_clips_per_class is not None and req.max_clips_per_class < 1:
        raise OptionError(f"--max-clips-per-class must be ≥ 1, got {req.max_clips_per_class}")
    return applied


CHANNEL_POLICIES = ("near", "far", "mean", "both")  # AudioSpec.channel_policy (suites/spec.py)


def check_channel(req: RunRequest, spec: AnySuite) -> None:
    """``--channel`` applies to near/far stereo suites only (``audio.channel_policy`` set: DCASE 2026)."""
    if req.channel not in CHANNEL_POLICIES:
        raise OptionError(f"--channel must be one of {', '.join(CHANNEL_POLICIES)}, got {req.channel!r}")
    if getattr(spec.audio, "channel_policy", None) is None:
        raise OptionError(f"--channel does not apply to suite {spec.name}: its files are not near/far stereo "
                          f"(stereo suites: dcase2026, dcase2026-synth)")


def with_channel(req: RunRequest, spec: AnySuite) -> AnySuite:
    """The suite with ``--channel`` as its channel policy (checked first); unchanged without the option."""
    if req.channel is None:
        return spec
    check_channel(req, spec)
    if spec.audio.channel_policy == req.channel:
        return spec
    audio = spec.audio.model_copy(update={"channel_policy": req.channel})
    return spec.model_copy(update={"audio": audio})


def channel_label_suffix(req: RunRequest) -> str:
    """Runs with a channel other than the baseline's near one are labelled ``<encoder>+<policy>``, so
    they sit beside the default run in one results folder and on leaderboards."""
    return f"+{req.channel}" if req.channel not in (None, "near") else ""
