"""IMPACT configuration and its two presets.

``reference`` follows the authors' code (IMPACT_dist ``config_eat.py`` / ``IMPACT_pretraining``,
recovered from the bytecode in hanprd/DINOS); ``paper`` follows the paper's text (§4.1–4.2,
App. A.3, Table 5). Where they differ, the field comment cites both; docs/impact.md lays the
differences side by side. A checkpoint we write carries ``to_dict()``, so loading needs no flags.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from impact_bench.errors import ImpactBenchError

PRESETS = ("reference", "paper")


class ConfigError(ImpactBenchError):
    """An IMPACT config (preset, override or checkpoint config) is invalid."""


@dataclass(frozen=True)
class FrontendConfig:
    # Shared by both presets (paper §4.2; authors' torchaudio MelSpectrogram call, hanprd/DINOS src/utils.py).
    sample_rate: int = 48_000
    clip_samples: int = 48_000        # 1-s clips (paper §4.1)
    n_fft: int = 2048
    win_length: int = 2048
    hop_length: int = 376             # 1 + 48000 // 376 = 128 frames
    n_mels: int = 128
    top_db: float = 80.0
    # reference: none (SpecConverter); paper: "RMS and Z-score normalization" (§4.1, LISTEN code)
    waveform_norm: str = "none"
    # reference: (dB + 4.268) / (4.569 + 1e-6) (EAT's AudioSet stats reused, DINOS SpecConverter);
    # paper/LISTEN: (dB + 80) / 160 (hanprd/LISTEN LISTEN_train_downstream.py, LISTEN_test_downstream.py)
    spec_mean: float = -4.268
    spec_std: float = 4.569 + 1e-6


@dataclass(frozen=True)
class ModelConfig:
    embed_dim: int = 384              # config_eat.py; paper Table 5: 384
    depth: int = 8                    # config_eat.py; paper Table 5: 8 layers
    num_heads: int = 12               # reference 12 (config_eat.py); paper Table 5: 16
    mlp_ratio: int = 4                # nn.TransformerEncoderLayer(dim_feedforward=4E)
    stem_channels: int = 32           # CNNEncoder comp Conv2d(1, 32, k3, s2, p1)
    stem_norm: bool = False           # reference: no BN/GELU; paper App. A.3: Conv2d + BN + GELU
    patch_size: int = 16              # Conv2d(32, E, k16, s16) on 64x64 -> 4x4 grid
    dropout: float = 0.0              # BaseConfig dropout 0


@dataclass(frozen=True)
class ObjectiveConfig:
    mask_ratio: float = 0.8           # reference (config_eat.py); paper §4.2: 0.7
    mask_block: int = 4               # BlockMaskingGenerator block (4,4) on the 4x4 grid = uniform
    clones: int = 16                  # num_clones 16 (both; EAT clone_batch)
    # reference "features": CNN feature decoder predicts layer-averaged teacher patch outputs (MSE);
    # paper "reconstruction": Table 5 CNN decoder reconstructs the spectrogram (Huber)
    frame_target: str = "features"
    frame_loss: str = "mse"           # reference hard-codes MSE; paper §4.2: Huber
    decoder_dim: int = 256            # config_eat.py dec_dim 256; paper Table 5: Linear 384 -> 512
    decoder_depth: int = 6            # CNNDecoder depth 6 = 5 x [ConvT+LN2d+GELU] + output ConvT
    utter_weight: float = 1.0         # every config: ut = 1.0; paper §4.2: lambda = 0.1
    ema_momentum: float = 0.996       # teacher_momentum 0.996 (paper gives no value)
    ema_every: str = "step"           # reference: every optimizer step; paper §4.2: after every epoch
    # Teacher-target normalisation. "none": raw layer average (authors' code, both presets).
    # "instance": EAT/data2vec 2.0 style (instance_norm_target_layer + layer_norm_targets): every
    # teacher layer's patch outputs are instance-normalised over tokens and its CLS layer-normalised,
    # then the layer average is layer-normalised. Not in IMPACT's sources; an anti-collapse option.
    target_norm: str = "none"
    # Utterance target. "cls": the teacher's CLS averaged over its layers (authors' code, both presets).
    # "patch_mean": the mean over patches of the (normalised) layer-averaged teacher targets — EAT's
    # utterance target (Chen et al. 2024, §3.2); not in IMPACT's sources.
    utterance_target: str = "cls"


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 5e-5                  # EATMAEConfig lr
    lr_min: float = 1e-6              # CosineAnnealingLR eta_min, stepped per epoch
    weight_decay: float = 0.05        # AdamW weight_decay
    grad_clip: float = 3.0            # EATMAEConfig grad clip
    batch_size: int = 256             # EATMAEConfig batch
    epochs: int = 20                  # EATMAEConfig epochs 20 (downstream uses epoch_0010); paper: 10
    warmup_steps: int = 0             # none in either source; used by small demo runs only


@dataclass(frozen=True)
class ImpactConfig:
    preset: str = "reference"
    frontend: FrontendConfig = field(default_factory=FrontendConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)

    @property
    def grid(self) -> int:
        """Tokens per side: stem halves 128 -> 64, patches of 16 -> 4."""
        return (self.frontend.n_mels // 2) // self.model.patch_size

    @property
    def num_keep(self) -> int:
        # int(16 * (1 - 0.8)) = 3 visible tokens, int(16 * 0.3) = 4 (len_keep, hanprd/DINOS src/utils.py)
        return int(self.grid * self.grid * (1 - self.objective.mask_ratio))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **sections: dict[str, Any]) -> "ImpactConfig":
        """New config with per-section overrides, e.g. ``replace(model={"num_heads": 16})``."""
        return from_dict({**self.to_dict(), **{k: {**self.to_dict()[k], **v} for k, v in sections.items()}})


def preset(name: str) -> ImpactConfig:
    if name == "reference":
        return ImpactConfig()
    if name == "paper":
        return ImpactConfig(
            preset="paper",
            frontend=FrontendConfig(waveform_norm="rms-zscore", spec_mean=-80.0, spec_std=160.0),
            model=ModelConfig(num_heads=16, stem_norm=True),
            objective=ObjectiveConfig(mask_ratio=0.7, frame_target="reconstruction", frame_loss="huber",
                                      decoder_dim=512, utter_weight=0.1, ema_every="epoch"),
            optim=OptimConfig(epochs=10),
        )
    raise ConfigError(f"unknown IMPACT preset {name!r}; choose one of {list(PRESETS)}")


_SECTIONS = {"frontend": FrontendConfig, "model": ModelConfig, "objective": ObjectiveConfig, "optim": OptimConfig}


def from_dict(data: dict[str, Any]) -> ImpactConfig:
    """Rebuild a config (e.g. from a checkpoint); unknown or ill-typed fields are errors naming them."""
    if not isinstance(data, dict):
        raise ConfigError(f"IMPACT config must be a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_SECTIONS) - {"preset"})
    if unknown:
        raise ConfigError(f"IMPACT config: unknown section(s) {unknown}")
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        values = data.get(name, {})
        known = {f.name: f for f in dataclasses.fields(cls)}
        bad = sorted(set(values) - set(known))
        if bad:
            raise ConfigError(f"IMPACT config: unknown field(s) {[f'{name}.{b}' for b in bad]}")
        for key, value in values.items():
            default = getattr(cls(), key)
            if isinstance(default, bool) != isinstance(value, bool) or (
                    not isinstance(value, type(default)) and not (isinstance(default, float) and isinstance(value, int))):
                raise ConfigError(f"IMPACT config: {name}.{key} must be {type(default).__name__}, got {value!r}")
        sections[name] = cls(**{k: (float(v) if isinstance(known[k].default, float) else v) for k, v in values.items()})
    cfg = ImpactConfig(preset=str(data.get("preset", "reference")), **sections)
    validate(cfg)
    return cfg


def validate(cfg: ImpactConfig) -> None:
    m, o, f = cfg.model, cfg.objective, cfg.frontend
    checks = [
        (m.embed_dim % m.num_heads == 0, f"model.embed_dim {m.embed_dim} must be divisible by num_heads {m.num_heads}"),
        (m.embed_dim % 4 == 0, "model.embed_dim must be divisible by 4 (2-D sin-cos positions)"),
        (1 + f.clip_samples // f.hop_length == f.n_mels, "frontend: frames (1 + clip_samples // hop) must equal n_mels "
                                                        "(the model takes square 128 x 128 spectrograms)"),
        ((f.n_mels // 2) % m.patch_size == 0, "frontend.n_mels / 2 must be a multiple of model.patch_size"),
        (0.0 <= o.mask_ratio < 1.0 and cfg.num_keep >= 1, f"objective.mask_ratio {o.mask_ratio} keeps no token"),
        (o.frame_target in ("features", "reconstruction"), "objective.frame_target: features | reconstruction"),
        (o.frame_loss in ("mse", "huber"), "objective.frame_loss: mse | huber"),
        (o.ema_every in ("step", "epoch"), "objective.ema_every: step | epoch"),
        (o.target_norm in ("none", "instance"), "objective.target_norm: none | instance"),
        (o.utterance_target in ("cls", "patch_mean"), "objective.utterance_target: cls | patch_mean"),
        (f.waveform_norm in ("none", "rms-zscore"), "frontend.waveform_norm: none | rms-zscore"),
        (o.clones >= 1 and o.decoder_depth >= 2, "objective.clones >= 1 and decoder_depth >= 2"),
        (o.frame_target != "reconstruction" or (o.decoder_dim % 4 == 0 and cfg.grid * 32 == f.n_mels),
         "objective: the reconstruction decoder needs decoder_dim divisible by 4 and a 4x4 grid"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"invalid IMPACT config ({cfg.preset}): {message}")
