"""Finding and building encoders.

``--encoder`` accepts a registered name (built-ins and installed plugins), ``pkg.module:Class``
or ``path/to/file.py:Class``. Plugins are installed distributions declaring an entry point in the
group ``impact_bench.encoders``; they are imported only when used. ``IMPACT_BENCH_NO_PLUGINS=1``
(or ``--no-plugins``) turns discovery off. Built-ins win name clashes with plugins.
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable

from impact_bench.encoders.hear import PREFIX as HEAR_PREFIX
from impact_bench.encoders.hear import hear_factory
from impact_bench.encoders.protocol import Encoder
from impact_bench.errors import EncoderError, RegistryError
from impact_bench.registry import Registry, import_target
from impact_bench.weights import MANIFESTS, locate

ENTRY_POINT_GROUP = "impact_bench.encoders"
NO_PLUGINS_ENV = "IMPACT_BENCH_NO_PLUGINS"

BUILTINS: dict[str, tuple[str, str, str]] = {  # name: (target, licence, description)
    "logmel-stats": ("impact_bench.encoders.logmel:LogMelStats", "MIT (part of impact-bench)",
                     "mean + std of 128 log-mel bands; weight-free reference"),
    "impact": ("impact_bench.impact.adapter:ImpactAdapter", "MIT (code); weights: as their trainer licenses them",
               "IMPACT last-layer CLS, 384-d; --checkpoint from `impact-bench train` or the authors' file"),
    "beats": ("impact_bench.baselines.beats:BeatsEncoder", "MIT (microsoft/unilm: code and weights)",
              "BEATs iter3/iter3+ (pre-trained or AS2M fine-tuned), mean of last-layer tokens, 768-d; --checkpoint "
              "BEATs_iter3*.pt"),
    "audiomae": ("impact_bench.baselines.audiomae:AudioMAEEncoder", "CC BY-NC 4.0: NON-COMMERCIAL (AudioMAE LICENSE)",
                 "AudioMAE ViT-B/16 AS-2M pre-trained, mean of normed patch tokens, 768-d; --checkpoint pretrained.pth"),
    "audiomae-ft": ("impact_bench.baselines.audiomae:AudioMAEFinetunedEncoder",
                    "CC BY-NC 4.0: NON-COMMERCIAL (AudioMAE LICENSE)",
                    "AudioMAE ViT-B/16 fine-tuned (AS-2M or your DINOS fine-tune), fc_norm(mean patch token), 768-d"),
    "clap": ("impact_bench.baselines.clap:ClapEncoder", "CC0-1.0 (LAION-CLAP code and weights)",
             "LAION-CLAP 630k HTS-AT audio branch + projection, L2-normalised, 512-d (fusion and non-fusion files); "
             "--checkpoint 630k-audioset-best.pt"),
    "opera-ct": ("impact_bench.baselines.opera:OperaCTEncoder", "code MIT; weights licence unclear (research only)",
                 "OPERA-CT HTS-AT tiny respiratory encoder, trimmed clip repeat-padded to 8 s, 768-d; --checkpoint "
                 "encoder-operaCT.ckpt"),
    "opera-gt": ("impact_bench.baselines.opera:OperaGTEncoder",
                 "code MIT; weights licence unclear (research only)",
                 "OPERA-GT ViT-S/4 respiratory MAE, trimmed + repeat-padded 8.18-s chunks, 384-d; --checkpoint "
                 "encoder-operaGT.ckpt"),
    "vggish": ("impact_bench.baselines.vggish:VggishEncoder", "Apache-2.0 (tensorflow/models; torchvggish port)",
               "VGGish 128-d pre-activation embedding, mean over 0.96-s examples; --checkpoint vggish-10086976.pth"),
    **{name: (f"impact_bench.baselines.listen:{cls}", "not stated by the LISTEN release (code and weights)", desc)
       for name, cls, desc in (
           ("listen", "ListenEncoder", "LISTEN (LISTEN release, distilled from IMPACT), mean of 64 tokens, 64-d; "
                                       "Models/LISTEN.pth"),
           ("bc-resnet-3", "BCResNet3Encoder", "BC-ResNet-3 student of IMPACT (LISTEN release), 192-d; "
                                               "Models/BC-ResNet-3.pth"),
           ("mobilevit-xxs", "MobileViTXXSEncoder", "MobileViT-XXS student of IMPACT (LISTEN release), 192-d; "
                                                    "Models/MobileViT-XXS.pth"),
           ("mobilenetv4-small", "MobileNetV4SmallEncoder", "MobileNetV4-Small student of IMPACT (LISTEN release), "
                                                            "192-d; Models/MobileNetV4-Small.pth"))},
    "opensmile": ("impact_bench.baselines.opensmile:OpenSmileEncoder",
                  "openSMILE research licence: NON-COMMERCIAL use only",
                  "openSMILE ComParE_2016 functionals, 6,373-d (needs the [opensmile] extra)"),
}


def plugins_enabled(autoload: bool = True) -> bool:
    return autoload and os.environ.get(NO_PLUGINS_ENV, "").strip().lower() not in {"1", "true", "yes"}


def encoder_registry(autoload: bool = True) -> tuple[Registry[Callable[..., Encoder]], list[str]]:
    """The registry and notices (e.g. a plugin name that clashes with a built-in)."""
    registry: Registry[Callable[..., Encoder]] = Registry("encoder")
    notices: list[str] = []
    for name, (target, licence, desc) in BUILTINS.items():
        registry.register(name, target, licence=licence, description=desc)
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
        encoder = factory(**kwargs)
    except EncoderError as exc:
        if searched and checkpoint is None:  # say where we looked, not only where the file comes from
            raise EncoderError(f"{exc}. Looked for {' or '.join(MANIFESTS[spec].files[:2])}"
                               f"{' …' if len(MANIFESTS[spec].files) > 2 else ''} in: {'; '.join(searched)}") from exc
        raise
    except Exception as exc:
        raise EncoderError(f"building encoder {spec!r} failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(encoder, Encoder):
        missing = [a for a in ("name", "version", "sample_rate", "embedding_dim", "min_input_seconds",
                               "max_input_seconds", "embed") if not hasattr(encoder, a)]
        raise EncoderError(f"{spec!r} does not satisfy the Encoder protocol; missing: {missing}")
    return encoder


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
