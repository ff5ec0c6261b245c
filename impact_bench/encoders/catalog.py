"""Finding and building encoders.

``--encoder`` accepts a registered name (built-ins and installed plugins), ``pkg.module:Class``
or ``path/to/file.py:Class``. Plugins are installed distributions declaring an entry point in the
group ``impact_bench.encoders``; they are imported only when used. ``IMPACT_BENCH_NO_PLUGINS=1``
(or ``--no-plugins``) turns discovery off. Built-ins win name clashes with plugins.
"""
from __future__ import annotations

import importlib.util
from contextlib import contextmanager
import inspect
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, Iterator

from impact_bench.encoders.hear import PREFIX as HEAR_PREFIX
from impact_bench.encoders.hear import hear_factory
from impact_bench.encoders.cards import CARDS
from impact_bench.encoders.protocol import PROTOCOL_ATTRIBUTES, Encoder, missing_attributes
from impact_bench.errors import EncoderError, RegistryError
from impact_bench.registry import Registry, import_target
from impact_bench.weights import MANIFESTS, locate

ENTRY_POINT_GROUP = "impact_bench.encoders"
NO_PLUGINS_ENV = "IMPACT_BENCH_NO_PLUGINS"

# name: (target, licence, description), a view of the encoder cards (impact_bench/encoders/cards.py)
BUILTINS: dict[str, tuple[str, str, str]] = {name: (c.target, c.licence, c.description) for name, c in CARDS.items()}


def plugins_enabled(autoload: bool = True) -> bool:
    return autoload and os.environ.get(NO_PLUGINS_ENV, "").strip().lower() not in {"1", "true", "yes"}


def encoder_registry(autoload: bool = True) -> tuple[Registry[Callable[..., Encoder]], list[str]]:
    """The registry and notices (e.g. a plugin name that clashes with a built-in)."""
    registry: Registry[Callable[..., Encoder]] = Registry("encoder")
    notices: list[str] = []
    for name, card in CARDS.items():
        registry.register(name, card.target, licence=card.licence, description=card.description, card=card)
    if plugins_enabled(autoload):
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(ep.dist, "name", "?")
            added = registry.register(ep.name, ep, origin=f"plugin:{dist}", on_clash="skip",
                                      licence="see plugin", description=f"plugin {ep.value}")
            if added is None:
                notices.append(f"plugin {ep.name!r} from {dist} ignored: the name is taken by a built-in")
    return registry, notices


def _load_from_file(path_str: str, attr: str) -> Any:
    path = Path(path_str)
    if not path.is_file():
        raise EncoderError(f"{path}: encoder file does not exist")
    mod_name = f"impact_bench_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise EncoderError(f"{path}: cannot import as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise EncoderError(f"{path}: importing the encoder file failed: {type(exc).__name__}: {exc}") from exc
    if not hasattr(module, attr):
        raise EncoderError(f"{path}: defines no attribute {attr!r}")
    return getattr(module, attr)


def resolve_factory(spec: str, autoload: bool = True) -> Callable[..., Encoder]:
    """Turn ``--encoder`` text into a factory (a class or function returning an encoder)."""
    if spec.startswith(HEAR_PREFIX):  # hear:MODULE, any HEAR-API module
        module = spec[len(HEAR_PREFIX):]
        if not module:
            raise EncoderError("--encoder hear:MODULE needs a module name, e.g. hear:hearbaseline.naive")
        return hear_factory(module)
    if ":" in spec:
        target, _, attr = spec.rpartition(":")
        if target.endswith(".py") or "/" in target or os.sep in target:
            return _load_from_file(target, attr)
        try:
            return import_target(spec)
        except (ImportError, AttributeError) as exc:
            raise EncoderError(f"cannot import encoder {spec!r}: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise EncoderError(f"importing encoder {spec!r} raised {type(exc).__name__}: {exc}") from exc
    registry, _ = encoder_registry(autoload)
    try:
        return registry.get(spec)
    except RegistryError as exc:
        raise EncoderError(str(exc)) from exc


def build_encoder(spec: str, *, checkpoint: str | None = None, device: str = "cpu",
                  options: dict[str, Any] | None = None, autoload: bool = True,
                  factory: Callable[..., Encoder] | None = None) -> Encoder:
    """Build an encoder from ``--encoder`` text, passing only the arguments its factory accepts.
    ``factory``: one already returned by :func:`resolve_factory` for ``spec``."""
    factory = factory if factory is not None else resolve_factory(spec, autoload)
    kwargs: dict[str, Any] = dict(options or {})
    searched: list[str] = []
    if checkpoint is None and spec in MANIFESTS and "random_init_seed" not in kwargs:  # see impact-bench weights
        look = locate(spec)
        checkpoint, searched = (None if look.found is None else str(look.found)), look.searched
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if checkpoint is not None:
        if "checkpoint" not in params and not accepts_any:
            raise EncoderError(f"encoder {spec!r} takes no checkpoint (--checkpoint given)")
        kwargs["checkpoint"] = checkpoint
    if "device" in params or accepts_any:
        kwargs["device"] = device
    unknown = [k for k in kwargs if k not in params and not accepts_any]
    if unknown:
        raise EncoderError(f"encoder {spec!r} has no option(s) {unknown}; it accepts {sorted(params)}")
    try:
        with preserved_global_rng():  # module construction draws initial weights; callers' RNGs stay untouched
            encoder = factory(**kwargs)
    except EncoderError as exc:
        if searched and checkpoint is None:  # say where we looked, not only where the file comes from
            raise EncoderError(f"{exc}. Looked for {' or '.join(MANIFESTS[spec].files[:2])}"
                               f"{' …' if len(MANIFESTS[spec].files) > 2 else ''} in: {'; '.join(searched)}") from exc
        raise
    except Exception as exc:
        raise EncoderError(f"building encoder {spec!r} failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(encoder, Encoder):
        raise EncoderError(f"{spec!r} does not satisfy the Encoder protocol ({', '.join(PROTOCOL_ATTRIBUTES)}); "
                           f"missing: {missing_attributes(encoder)}")
    return encoder


@contextmanager
def preserved_global_rng() -> Iterator[None]:
    """Python's, NumPy's and torch's global RNG states are restored on exit (torch's CPU generator only)."""
    import random

    import numpy as np
    import torch
    py, npy, tch = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(npy)
        torch.set_rng_state(tch)


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``--encoder-opt key=value`` → dict; values parsed as int/float/bool when they look like one."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise EncoderError(f"--encoder-opt expects key=value, got {pair!r}")
        value: Any = raw
        if raw.lower() in {"true", "false"}:
            value = raw.lower() == "true"
        else:
            for cast in (int, float):
                try:
                    value = cast(raw)
                    break
                except ValueError:
                    pass
        out[key] = value
    return out
