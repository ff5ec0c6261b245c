"""The suite registry: built-in ``tasks/*.yaml`` (shipped as ``impact_bench.task_files``) plus any
extra folders the user names (``--tasks-dir``)."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from impact_bench.errors import TaskFileError
from impact_bench.registry import Registry
from impact_bench.suites.spec import AnySuite, load_suite_file


def builtin_tasks_dir() -> Path:
    return Path(str(resources.files("impact_bench.task_files")))


@lru_cache(maxsize=8)
def _suites(extra_dirs: tuple[str, ...] = ()) -> Registry[AnySuite]:
    registry: Registry[AnySuite] = Registry("suite")
    for folder, origin in [(builtin_tasks_dir(), "builtin")] + [(Path(d), f"path:{d}") for d in extra_dirs]:
        if not folder.is_dir():
            raise TaskFileError(f"{folder}: tasks folder does not exist")
        for path in sorted(folder.glob("*.yaml")):
            spec = load_suite_file(path)
            if path.stem != spec.name:
                raise TaskFileError(f"{path}: field 'name' is {spec.name!r} but the file is named {path.name!r}")
            registry.register(spec.name, spec, origin=origin)
    return registry


def suite_registry(extra_dirs: tuple[str, ...] = ()) -> Registry[AnySuite]:
    return _suites(tuple(extra_dirs))


def get_suite(name: str, extra_dirs: tuple[str, ...] = ()) -> AnySuite:
    return suite_registry(extra_dirs).get(name)
