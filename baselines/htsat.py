"""HTS-AT (Chen et al. 2022; Swin-Transformer audio encoder) in plain torch with the official parameter names.

One implementation serves OPERA-CT and LAION-CLAP, whose ``htsat.py`` files share the Swin body
(evelyn0414/OPERA ``src/model/htsat``, LAION-AI/CLAP ``clap_module/htsat.py``). Structure: ``bn0``
(BatchNorm over the 64 mel bins) → ``reshape_wav2img`` (bicubic, align_corners, time → 1024 frames;
four 256-frame slices stacked along frequency → 256 × 256) → ``patch_embed`` (Conv 4 × 4 stride 4 +
LayerNorm) → four Swin stages (window 8, shifted windows on odd blocks, relative position bias, patch
merging between stages) → ``norm`` → latent = mean over tokens.
``tscam_conv``/``head`` (AudioSet heads) and the torchlibrosa front-end tensors are part of the files and
are loaded (nothing ignored) but the embedding does not use the heads. The ``relative_position_index`` and
``attn_mask`` buffers are stored in the files too; they are rebuilt here and must equal the stored ones.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from impact_bench.baselines.vit import Mlp  # fc1 → exact GELU → fc2, as timm's and HTS-AT's


@dataclass(frozen=True)
class HtsatConfig:
    """Defaults: HTS-AT tiny (``create_htsat_model`` "tiny"; OPERA's ``htsat/config.py``)."""

    embed_dim: int = 96
    depths: tuple[int, ...] = (2, 2, 6, 2)
    num_heads: tuple[int, ...] = (4, 8, 16, 32)
    window: int = 8
    patch: int = 4
    spec_size: int = 256
    mel_bins: int = 64
    num_classes: int = 527
    n_fft: int = 1024          # torchlibrosa front-end tensors in the file (shapes only matter for loading)
    fusion: bool = False       # CLAP "aff_2d" fusion: patch_embed.mel_conv2d + patch_embed.fusion_model

    @property
    def freq_ratio(self) -> int:
        return self.spec_size // self.mel_bins

    @property
    def num_features(self) -> int:
        return self.embed_dim * 2 ** (len(self.depths) - 1)


def window_partition(x: torch.Tensor, w: int) -> torch.Tensor:
    b, h, wd, c = x.shape
    return x.view(b, h // w, w, wd // w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, c)


def window_reverse(x: torch.Tensor, w: int, h: int, wd: int) -> torch.Tensor:
    b = x.shape[0] // ((h // w) * (wd // w))
    return x.view(b, h // w, wd // w, w, w, -1).permute(0, 1, 3, 2, 4, 5).reshape(b, h, wd, -1)


def relative_index(w: int) -> torch.Tensor:
    """(w², w²) index into the (2w−1)² bias table (Swin)."""
    coords = torch.stack(torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (w - 1)
    return rel[..., 0] * (2 * w - 1) + rel[..., 1]


def shift_mask(res: int, w: int, shift: int) -> torch.Tensor:
    """(nW, w², w²) 0/−100 mask for shifted windows (Swin ``img_mask`` regions)."""
    img = torch.zeros(1, res, res, 1)
    cnt = 0
    for hs in (slice(0, -w), slice(-w, -shift), slice(-shift, None)):
        for ws in (slice(0, -w), slice(-w, -shift), slice(-shift, None)):
            img[:, hs, ws, :] = cnt
            cnt += 1
    win = window_partition(img, w).squeeze(-1)
    diff = win.unsqueeze(1) - win.unsqueeze(2)
    return diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)


class WindowAttention(nn.Module):
    def __init__(self, dim: int, window: int, heads: int) -> None:
        super().__init__()
        self.heads, self.window = heads, window
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        self.register_buffer("relative_position_index", relative_index(window))
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        bw, n, c = x.shape
        q, k, v = self.qkv(x).reshape(bw, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1)
        attn = attn + bias.permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = (attn.view(bw // nw, nw, self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0)).view(-1, self.heads, n, n)
        return self.proj((attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(bw, n, c))


class SwinBlock(nn.Module):
    def __init__(self, dim: int, res: int, heads: int, window: int, shift: int) -> None:
        super().__init__()
        if res <= window:  # window larger than the map: one window, no shift (official rule)
            window, shift = res, 0
        self.res, self.window, self.shift = res, window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, dim * 4)
        self.register_buffer("attn_mask", shift_mask(res, window, shift) if shift else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, c = x.shape
        h = self.norm1(x).view(b, self.res, self.res, c)
        if self.shift:
            h = torch.roll(h, (-self.shift, -self.shift), dims=(1, 2))
        h = window_reverse(self.attn(window_partition(h, self.window), self.attn_mask), self.window, self.res, self.res)
        if self.shift:
            h = torch.roll(h, (self.shift, self.shift), dims=(1, 2))
        x = x + h.reshape(b, -1, c)
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim: int, res: int) -> None:
        super().__init__()
        self.res = res
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, c = x.shape
        x = x.view(b, self.res, self.res, c)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)
        return self.reduction(self.norm(x.reshape(b, -1, 4 * c)))


class BasicLayer(nn.Module):
    def __init__(self, dim: int, res: int, depth: int, heads: int, window: int, merge: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(SwinBlock(dim, res, heads, window, 0 if i % 2 == 0 else window // 2)
                                    for i in range(depth))
        self.downsample = PatchMerging(dim, res) if merge else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.blocks:
            x = blk(x)
        return self.downsample(x) if self.downsample is not None else x


def _bn_stack(c_in: int, c_mid: int, c_out: int, pool: bool) -> nn.Sequential:
    """AFF attention branch (feature_fusion.py, type 2D): [pool,] conv-BN-ReLU-conv-BN."""
    layers: list[nn.Module] = [nn.AdaptiveAvgPool2d(1)] if pool else []
    layers += [nn.Conv2d(c_in, c_mid, 1), nn.BatchNorm2d(c_mid), nn.ReLU(), nn.Conv2d(c_mid, c_out, 1),
               nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers)


class AFF(nn.Module):
    """Attentional feature fusion (CLAP ``aff_2d``); used only for clips longer than 10 s, which the CLAP
    adapter never feeds (the harness windows them), so it is loaded but not run."""

    def __init__(self, channels: int, r: int = 4) -> None:
        super().__init__()
        self.local_att = _bn_stack(channels, channels // r, channels, pool=False)
        self.global_att = _bn_stack(channels, channels // r, channels, pool=True)


class PatchEmbed(nn.Module):
    def __init__(self, cfg: HtsatConfig) -> None:
        super().__init__()
        self.proj = nn.Conv2d(1, cfg.embed_dim, cfg.patch, cfg.patch)
        self.norm = nn.LayerNorm(cfg.embed_dim)
        if cfg.fusion:
            self.mel_conv2d = nn.Conv2d(1, cfg.embed_dim, (cfg.patch, cfg.patch * 3), (cfg.patch, cfg.patch * 3))
            self.fusion_model = AFF(cfg.embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x).flatten(2).transpose(1, 2))


class _Conv(nn.Module):  # torchlibrosa keeps its DFT kernels as conv weights: <name>.weight
    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(shape), requires_grad=False)


class _Stft(nn.Module):
    def __init__(self, n_fft: int) -> None:
        super().__init__()
        self.conv_real = _Conv((n_fft // 2 + 1, 1, n_fft))
        self.conv_imag = _Conv((n_fft // 2 + 1, 1, n_fft))


class _Spectrogram(nn.Module):
    def __init__(self, n_fft: int) -> None:
        super().__init__()
        self.stft = _Stft(n_fft)


class _Logmel(nn.Module):
    def __init__(self, n_fft: int, n_mels: int) -> None:
        super().__init__()
        self.melW = nn.Parameter(torch.zeros(n_fft // 2 + 1, n_mels), requires_grad=False)


class HTSAT(nn.Module):
    def __init__(self, cfg: HtsatConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.spectrogram_extractor = _Spectrogram(cfg.n_fft)
        self.logmel_extractor = _Logmel(cfg.n_fft, cfg.mel_bins)
        self.bn0 = nn.BatchNorm2d(cfg.mel_bins)
        self.patch_embed = PatchEmbed(cfg)
        res = cfg.spec_size // cfg.patch
        self.layers = nn.ModuleList()
        for i, (depth, heads) in enumerate(zip(cfg.depths, cfg.num_heads)):
            self.layers.append(BasicLayer(cfg.embed_dim * 2 ** i, res // 2 ** i, depth, heads, cfg.window,
                                          merge=i < len(cfg.depths) - 1))
        self.norm = nn.LayerNorm(cfg.num_features)
        sf = cfg.spec_size // 2 ** (len(cfg.depths) - 1) // cfg.patch // cfg.freq_ratio
        self.tscam_conv = nn.Conv2d(cfg.num_features, cfg.num_classes, kernel_size=(sf, 3), padding=(0, 1))
        self.head = nn.Linear(cfg.num_classes, cfg.num_classes)

    def stft_power(self, wave: torch.Tensor, hop: int) -> torch.Tensor:
        """torchlibrosa Spectrogram (centre, reflect padding) with the stored DFT kernels → (B, T, F) power."""
        n_fft = self.spectrogram_extractor.stft.conv_real.weight.shape[-1]
        x = F.pad(wave[:, None, :], (n_fft // 2, n_fft // 2), mode="reflect")
        re = F.conv1d(x, self.spectrogram_extractor.stft.conv_real.weight, stride=hop)
        im = F.conv1d(x, self.spectrogram_extractor.stft.conv_imag.weight, stride=hop)
        return (re ** 2 + im ** 2).transpose(1, 2)

    def image(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, T, 64) log-mel → bn0 → (B, 1, 256, 256) (``reshape_wav2img``)."""
        x = self.bn0(mel.unsqueeze(1).transpose(1, 3)).transpose(1, 3)
        target_t = self.cfg.spec_size * self.cfg.freq_ratio
        if x.shape[2] > target_t:
            raise ValueError(f"HTS-AT: {x.shape[2]} frames exceed the {target_t}-frame input")
        if x.shape[2] < target_t:
            x = F.interpolate(x, (target_t, x.shape[3]), mode="bicubic", align_corners=True)
        x = x.permute(0, 1, 3, 2)
        x = x.reshape(x.shape[0], 1, x.shape[2], self.cfg.freq_ratio, x.shape[3] // self.cfg.freq_ratio)
        return x.permute(0, 1, 3, 2, 4).reshape(x.shape[0], 1, -1, x.shape[-1])

    def latent(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, T, 64) log-mel → (B, num_features): mean over the final normalised tokens."""
        x = self.patch_embed(self.image(mel))
        for layer in self.layers:
            x = layer(x)
        return self.norm(x).mean(dim=1)


def check_buffers(model: HTSAT, state: dict[str, torch.Tensor], where: str) -> None:
    """The stored index/mask buffers must be the ones this architecture builds (else a different window
    or resolution was trained)."""
    for key, ours in model.state_dict().items():
        if key.endswith(("relative_position_index", "attn_mask")) and key in state:
            if state[key].shape != ours.shape or not torch.equal(state[key].to(ours.dtype), ours):
                raise ValueError(f"{where}: stored buffer {key} differs from the HTS-AT geometry built here")


def config_from_state(state: dict[str, torch.Tensor], prefix: str = "") -> HtsatConfig:
    """HTS-AT geometry read from the tensors (width, depths, heads, window, classes, mel bins, fusion)."""
    def get(key: str) -> torch.Tensor:
        if prefix + key not in state:
            raise KeyError(prefix + key)
        return state[prefix + key]
    depths, heads = [], []
    i = 0
    while f"{prefix}layers.{i}.blocks.0.norm1.weight" in state:
        depths.append(1 + max(int(k[len(f"{prefix}layers.{i}.blocks."):].split(".")[0])
                              for k in state if k.startswith(f"{prefix}layers.{i}.blocks.")))
        heads.append(int(get(f"layers.{i}.blocks.0.attn.relative_position_bias_table").shape[1]))
        i += 1
    rows = int(get("layers.0.blocks.0.attn.relative_position_bias_table").shape[0])
    return HtsatConfig(embed_dim=int(get("patch_embed.proj.weight").shape[0]), depths=tuple(depths),
                       num_heads=tuple(heads), window=(int(round(rows ** 0.5)) + 1) // 2,
                       patch=int(get("patch_embed.proj.weight").shape[-1]), mel_bins=int(get("bn0.weight").shape[0]),
                       num_classes=int(get("head.weight").shape[0]),
                       n_fft=int(get("spectrogram_extractor.stft.conv_real.weight").shape[-1]),
                       fusion=prefix + "patch_embed.mel_conv2d.weight" in state)
