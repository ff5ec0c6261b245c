"""The IMPACT encoder in plain torch, with the authors' parameter names (``EATMAE``, IMPACT_dist
bytecode in hanprd/DINOS).

waveform (B, 48000) → mel (B, 1, 128 mel, 128 time; frequency is the H axis) → stem
Conv2d(1, 32, k3, s2, p1) → Conv2d(32, E, k16, s16) → 4 × 4 = 16 tokens + CLS → fixed 2-D sin-cos
positions (zero row for CLS; a buffer, not in the state dict) → pre-LN ``nn.TransformerEncoder``
(GELU, FFN 4E, no final norm). Embedding = last-layer CLS, un-normalised.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from impact_bench.audio import EPS  # the suite's rms_zscore epsilon, same formula in torch
from impact_bench.features import MelSpectrogram, power_to_db
from impact_bench.impact.config import FrontendConfig, ImpactConfig, ModelConfig


class SpecFrontend(nn.Module):
    """Waveforms → normalised (B, 1, n_mels, frames) spectrograms (hanprd/DINOS src/utils.py ``SpecConverter``;
    LISTEN variant: hanprd/LISTEN)."""

    def __init__(self, cfg: FrontendConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.mel = MelSpectrogram(cfg.sample_rate, cfg.n_fft, cfg.hop_length, cfg.n_mels,
                                  win_length=cfg.win_length, f_min=0.0, f_max=cfg.sample_rate / 2, power=2.0)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        wave = wave.float()
        if self.cfg.waveform_norm == "rms-zscore":
            # LISTEN: (x/(rms+eps) - mean(x)) / (std(x)+eps), mean/std of the original x
            rms = wave.pow(2).mean(dim=-1, keepdim=True).sqrt()
            mean = wave.mean(dim=-1, keepdim=True)
            std = wave.std(dim=-1, unbiased=False, keepdim=True)
            wave = (wave / (rms + EPS) - mean) / (std + EPS)
        db = power_to_db(self.mel(wave), top_db=self.cfg.top_db)  # per-example top_db clamp
        frames = self.cfg.n_mels  # SpecConverter pads/crops the time axis to 128 frames
        if db.shape[-1] < frames:
            db = nn.functional.pad(db, (0, frames - db.shape[-1]))
        db = db[..., :frames]
        return ((db - self.cfg.spec_mean) / self.cfg.spec_std).unsqueeze(1)


class PatchEmbed(nn.Module):
    """``CNNEncoder``: ``comp`` stem (+ BN + GELU in the paper preset) then ``proj`` patches."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.comp = nn.Conv2d(1, cfg.stem_channels, kernel_size=3, stride=2, padding=1)
        # Paper App. A.3 "Conv2d + BN + GELU"; the parameter name `norm` is ours (no public checkpoint has it).
        self.norm = nn.BatchNorm2d(cfg.stem_channels) if cfg.stem_norm else None
        self.act = nn.GELU() if cfg.stem_norm else None
        self.proj = nn.Conv2d(cfg.stem_channels, cfg.embed_dim, kernel_size=cfg.patch_size, stride=cfg.patch_size)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        x = self.comp(spec)
        if self.norm is not None:
            x = self.act(self.norm(x))
        # Conv2d(k16, s16) on non-overlapping patches, computed as one matmul (same weights and result as
        # self.proj(x).flatten(2).transpose(1, 2), ~1.5x faster on CPU). Token index = row * G + col.
        b, c, h, w = x.shape
        p = self.proj.kernel_size[0]
        patches = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(b * (h // p) * (w // p), -1)
        out = torch.addmm(self.proj.bias, patches, self.proj.weight.reshape(self.proj.out_channels, -1).t())
        return out.reshape(b, (h // p) * (w // p), -1)


def sincos_2d(dim: int, grid: int, cls_row: bool) -> torch.Tensor:
    """MAE's fixed 2-D sin-cos table: dim/4 frequencies, [sin c, cos c, sin r, cos r] where the
    first half encodes the column (meshgrid(w, h)[0]) and the second the row; optional zero CLS row."""
    quarter = dim // 4
    omega = 1.0 / 10000 ** (np.arange(quarter, dtype=np.float64) / quarter)
    rows, cols = np.meshgrid(np.arange(grid, dtype=np.float64), np.arange(grid, dtype=np.float64), indexing="ij")

    def axis(pos: np.ndarray) -> np.ndarray:
        out = np.outer(pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    table = np.concatenate([axis(cols), axis(rows)], axis=1)
    if cls_row:
        table = np.concatenate([np.zeros((1, dim)), table], axis=0)
    return torch.from_numpy(table).float().unsqueeze(0)


class ImpactEncoder(nn.Module):
    """Student/teacher encoder (``EATMAE`` without its decoder)."""

    def __init__(self, cfg: ImpactConfig) -> None:
        super().__init__()
        m = cfg.model
        self.cfg = cfg
        self.grid = cfg.grid
        self.patch_embed = PatchEmbed(m)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, m.embed_dim))
        layer = nn.TransformerEncoderLayer(m.embed_dim, m.num_heads, m.mlp_ratio * m.embed_dim, m.dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, m.depth, enable_nested_tensor=False)
        self.register_buffer("pos_embed", sincos_2d(m.embed_dim, self.grid, cls_row=True), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # IMPACT_dist init: Linear/Conv/ConvT xavier_uniform, bias 0; norms 1/0; cls_token N(0, 0.02)
        for mod in self.modules():
            if isinstance(mod, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.xavier_uniform_(mod.weight)
                if mod.bias is not None:
                    nn.init.zeros_(mod.bias)
            elif isinstance(mod, (nn.LayerNorm, nn.BatchNorm2d)):
                nn.init.ones_(mod.weight)
                nn.init.zeros_(mod.bias)
        nn.init.normal_(self.cls_token, std=0.02)

    def patch_tokens(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, 1, F, T) → (B, G², E) patch tokens with positions added."""
        return self.patch_embed(spec) + self.pos_embed[:, 1:]

    def with_cls(self, tokens: torch.Tensor) -> torch.Tensor:
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(tokens.shape[0], -1, -1)
        return torch.cat([cls, tokens], dim=1)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """Downstream embedding: last-layer CLS (``forward_features``)."""
        return self.encoder(self.with_cls(self.patch_tokens(spec)))[:, 0]

    def layer_average(self, spec: torch.Tensor,
                      per_layer: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """Teacher targets: mean over all layers of each layer's output (optionally transformed
        first), (B, 1 + G², E) (teacher ``EATMAE``, hanprd/DINOS src/utils.py)."""
        x = self.with_cls(self.patch_tokens(spec))
        total = torch.zeros_like(x)
        for layer in self.encoder.layers:
            x = layer(x)
            total = total + (x if per_layer is None else per_layer(x))
        return total / len(self.encoder.layers)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
