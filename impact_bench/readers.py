"""Every release layout in one map: ``data.layout`` → (detect, scan).

``detect(root)`` is a cheap "does this folder hold such a release" (data-root discovery);
``scan(root, spec, options)`` indexes every clip the suite scores, raising :class:`DataError` on any
layout problem. The run pipeline reads data only through :func:`detect` and :func:`scan`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from impact_bench.anomaly import dataset as asd
from impact_bench.errors import DataError
from impact_bench.suites import dinos, listen
from impact_bench.suites.spec import AnySuite


@dataclass(frozen=True)
class ScanOptions:
    class_map: Path | None = None            # dinos-release only
    max_clips_per_class: int | None = None   # classification suites
    machines: tuple[str, ...] = ()           # anomaly suites


def _finds(find_root: Callable[[Path], Path]) -> Callable[[Path], bool]:
    def detect(root: Path) -> bool:
        try:
            find_root(Path(root))
            return True
        except DataError:
            return False
    return detect


def _scan_dinos(root: Path, spec: Any, o: ScanOptions) -> Any:
    return dinos.scan(root, spec, o.class_map, o.max_clips_per_class)


def _scan_listen(root: Path, spec: Any, o: ScanOptions) -> Any:
    return listen.scan(root, spec, o.max_clips_per_class)


def _scan_dcase(root: Path, spec: Any, o: ScanOptions) -> Any:
    return asd.scan_dcase(root, int(spec.data.year), spec.protocol.sets, spec.data.machines, o.machines)


def _scan_mimii(root: Path, spec: Any, o: ScanOptions) -> Any:
    # the unsupervised protocol takes its test normals from the normal folder; the supervised one
    # re-splits every clip, so it needs no surplus of normals
    return asd.scan_mimii(root, spec.protocol.sets, o.machines, split_normals=spec.protocol.scheme == "unsupervised")


def _scan_dinos_anomaly(root: Path, spec: Any, o: ScanOptions) -> Any:
    return asd.scan_dinos_anomaly(root)


LAYOUTS: dict[str, tuple[Callable[[Path], bool], Callable[[Path, Any, ScanOptions], Any]]] = {
    "dinos-release": (_finds(dinos.find_release_root), _scan_dinos),
    "listen-release": (_finds(listen.find_release_root), _scan_listen),
    "dcase": (lambda root: asd.looks_like("dcase", root), _scan_dcase),
    "mimii": (lambda root: asd.looks_like("mimii", root), _scan_mimii),
    "dinos-anomaly": (_finds(dinos.find_release_root), _scan_dinos_anomaly),
}


def detect(spec: AnySuite, root: Path) -> bool:
    return Path(root).is_dir() and LAYOUTS[spec.data.layout][0](Path(root))


def scan(spec: AnySuite, root: Path, options: ScanOptions = ScanOptions()) -> Any:
    return LAYOUTS[spec.data.layout][1](Path(root), spec, options)
