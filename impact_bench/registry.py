"""One generic registry for encoders, suites and anything else looked up by name.

Modelled on lm-eval's ``api/registry.py``: entries are objects or lazy ``"module:attr"`` strings
(or ``importlib.metadata.EntryPoint``s) materialised on first :meth:`Registry.get`; registering a
taken name is an error unless the old entry is a placeholder being upgraded; unknown names get
"did you mean" suggestions. Built-ins win clashes with plugins (plugins are added afterwards with
``on_clash="skip"`` and the clash is reported).
"""
from __future__ import annotations

import difflib
import importlib
import threading
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from typing import Any, Generic, Iterator, TypeVar

from impact_bench.errors import RegistryError

T = TypeVar("T")


@dataclass
class Entry(Generic[T]):
    """A registered object plus where it came from (``builtin``, ``plugin:<dist>``, ``path``)."""

    name: str
    target: T | str | EntryPoint
    origin: str = "builtin"
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # set when a lazy target failed to load

    @property
    def loaded(self) -> bool:
        return not isinstance(self.target, (str, EntryPoint))


def import_target(spec: str) -> Any:
    """Import ``"package.module:attr"`` (attr may be dotted)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise RegistryError(f"expected 'module:attribute', got {spec!r}")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Thread-safe name → object mapping with lazy loading and helpful errors."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._lock = threading.RLock()

    def register(
        self,
        name: str,
        target: T | str | EntryPoint,
        *,
        origin: str = "builtin",
        on_clash: str = "error",
        **meta: Any,
    ) -> Entry[T] | None:
        """Add ``name``. ``on_clash``: ``"error"`` (default) or ``"skip"`` (returns None)."""
        with self._lock:
            old = self._entries.get(name)
            if old is not None:
                if on_clash == "skip":
                    return None
                raise RegistryError(
                    f"{self.kind} {name!r} is already registered (from {old.origin}); "
                    f"refusing to replace it with one from {origin}"
                )
            entry = Entry(name=name, target=target, origin=origin, meta=dict(meta))
            self._entries[name] = entry
            return entry

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._entries)

    def entries(self) -> Iterator[Entry[T]]:
        with self._lock:
            items = [self._entries[n] for n in sorted(self._entries)]
        return iter(items)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def entry(self, name: str) -> Entry[T]:
        with self._lock:
            if name not in self._entries:
                raise RegistryError(self._unknown_message(name))
            return self._entries[name]

    def get(self, name: str) -> T:
        """Return the object for ``name``, importing it on first use."""
        entry = self.entry(name)
        with self._lock:
            if not entry.loaded:
                try:
                    if isinstance(entry.target, EntryPoint):
                        obj = entry.target.load()
                    else:
                        obj = import_target(entry.target)
                except Exception as exc:  # a plugin may fail in any way on import
                    entry.error = f"{type(exc).__name__}: {exc}"
                    raise RegistryError(
                        f"{self.kind} {name!r} (from {entry.origin}) failed to load: {entry.error}"
                    ) from exc
                entry.target = obj
            return entry.target  # type: ignore[return-value]

    def suggestions(self, name: str) -> list[str]:
        return difflib.get_close_matches(name, self.names(), n=3, cutoff=0.5)

    def _unknown_message(self, name: str) -> str:
        msg = f"unknown {self.kind} {name!r}"
        close = self.suggestions(name)
        if close:
            msg += f"; did you mean {', '.join(repr(c) for c in close)}?"
        msg += f" Known: {', '.join(self.names()) or '(none)'}."
        return msg
