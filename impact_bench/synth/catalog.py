"""One entry point for every synthetic generator: the suite file names its generator."""
from __future__ import annotations

from pathlib import Path

from impact_bench.errors import ImpactBenchError
from impact_bench.suites.spec import AnomalySuiteSpec, AnySuite


def write_suite_data(spec: AnySuite, root: Path, scale: float = 1.0, machines: int | None = None,
                     progress: bool = True) -> int:
    """Write ``spec``'s synthetic data under ``root``; ``machines`` keeps the first N machine types of
    each set (anomaly suites). Returns the number of files written or kept."""
    gen = spec.data.generator
    if gen is None:
        raise ImpactBenchError(f"suite {spec.name!r} has real data only; synthetic suites: "
                               "dinos-synth, dinos-anomaly-synth, listen-onsite-synth, dcase2020-synth … "
                               "dcase2024-synth, dcase2026-synth (near/far stereo), mimii-synth, mimii-supervised-synth")
    if not 0 < scale <= 10:
        raise ImpactBenchError(f"--scale must be in (0, 10], got {scale}")
    if gen == "dinos-synth":
        from impact_bench.synth.dinos_synth import write_dinos_synth
        return write_dinos_synth(spec, root, scale, progress=progress)  # type: ignore[arg-type]
    if gen == "dinos-anomaly-synth":  # the classes (and their Table 2 counts) of dinos-synth
        from impact_bench.suites.catalog import get_suite
        from impact_bench.synth.dinos_synth import write_dinos_anomaly_synth
        return write_dinos_anomaly_synth(get_suite("dinos-synth"), root, scale, progress=progress)  # type: ignore[arg-type]
    if gen == "listen-onsite-synth":
        from impact_bench.synth.listen_synth import write_listen_synth
        return write_listen_synth(spec, root, scale, progress=progress)  # type: ignore[arg-type]
    assert isinstance(spec, AnomalySuiteSpec)
    types = {k: tuple(v[:machines] if machines else v) for k, v in spec.data.machines.items()}
    if gen == "dcase-synth":
        from impact_bench.synth.dcase_synth import write_dcase_synth
        return len(write_dcase_synth(root, int(spec.data.year), types, scale, progress))
    if gen == "mimii-synth":
        from impact_bench.synth.mimii_synth import MACHINES, write_mimii_synth
        return write_mimii_synth(root, scale, MACHINES[:machines] if machines else MACHINES, progress=progress)
    raise ImpactBenchError(f"suite {spec.name!r} names an unknown generator {gen!r}")
