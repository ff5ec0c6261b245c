"""The LISTEN release's networks in plain torch, with the release's parameter names.

Source: github.com/hanprd/LISTEN (HEAD 3f0718b), ``LISTEN_test_downstream.py`` — classes
``DistillModel`` (LISTEN), ``BCResNet3_Student``, ``MobileViT_XXS_Student``,
``MobileNetV4Small_Student`` and the downstream head ``AudioClassifier``. Every module below is
written here; what must agree with the release is the state-dict layout (checked by strict loading)
and the arithmetic (checked against the release's own classes by ``scripts/golden/listen.py``).

All four encoders read the same (B, 1, 128 mel, 128 frame) spectrogram; LISTEN returns the mean of
its 64 patch tokens (64-d), the three students a 192-d linear projection of a pooled feature map.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


LISTEN_DIM, LISTEN_HEADS, LISTEN_DEPTH, LISTEN_FFN_MULTIPLIER = 64, 4, 2, 1  # release DistillConfig
STUDENT_DIM = 192  # BACKBONE_SPECS embed_dim of the three students


class ListenNet(nn.Module):
    """``DistillModel``: 16x16 patch conv + BN + ReLU → 2 pre-LN transformer layers (ReLU FFN of
    ``dim * multiplier``, no dropout) → mean over the 8 x 8 = 64 tokens."""

    def __init__(self, dim: int = LISTEN_DIM, heads: int = LISTEN_HEADS, depth: int = LISTEN_DEPTH,
                 multiplier: int = LISTEN_FFN_MULTIPLIER) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, dim, 16, 16)
        self.bn1 = nn.BatchNorm2d(dim)
        self.relu = nn.ReLU()
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(dim, heads, dim * multiplier, 0.0, activation="relu", batch_first=True,
                                       norm_first=True) for _ in range(depth))

    def tokens(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, 1, 128, 128) → (B, 64, dim); tokens in (mel patch, frame patch) row-major order."""
        x = self.relu(self.bn1(self.conv1(spec))).flatten(2).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        return x

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return self.tokens(spec).mean(dim=1)


# --- MobileNetV4-Small student -------------------------------------------------------------------

def make_divisible(value: float, divisor: int = 8) -> int:
    """Round to a multiple of ``divisor`` (at least ``divisor``), never more than 10 % down."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _conv_bn(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, act: nn.Module | None = None) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(c_out)]
    if act is not None:
        layers.append(act)
    return nn.Sequential(*layers)


class ConvBNReLU(nn.Module):
    """``MNv4ConvBN``."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int) -> None:
        super().__init__()
        self.block = _conv_bn(c_in, c_out, k, stride, act=nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class UIB(nn.Module):
    """``UniversalInvertedBottleneck``: optional depthwise start conv (strided only when there is no
    middle one), 1x1 expansion, optional strided depthwise middle conv, 1x1 projection; residual when
    the shape is kept."""

    def __init__(self, c_in: int, c_out: int, expand: float, start_k: int, middle_k: int, stride: int) -> None:
        super().__init__()
        self.start_k, self.middle_k = start_k, middle_k
        if start_k:
            self.start_conv = _conv_bn(c_in, c_in, start_k, 1 if middle_k else stride, groups=c_in)
        hidden = make_divisible(int(c_in * expand), 8)
        self.exp_conv = _conv_bn(c_in, hidden, 1, act=nn.ReLU(inplace=True))
        if middle_k:
            self.mid_conv = _conv_bn(hidden, hidden, middle_k, stride, groups=hidden, act=nn.ReLU(inplace=True))
        self.proj_conv = _conv_bn(hidden, c_out, 1)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.start_conv(x) if self.start_k else x
        y = self.exp_conv(y)
        if self.middle_k:
            y = self.mid_conv(y)
        y = self.proj_conv(y)
        return x + y if self.residual else y


# (kind, args): conv = (kernel, stride, out); uib = (start kernel, middle kernel, stride, out, expansion)
MNV4_SMALL_LAYOUT: tuple[tuple, ...] = (
    ("conv", 3, 2, 32), ("conv", 3, 2, 32), ("conv", 1, 1, 32), ("conv", 3, 2, 96), ("conv", 1, 1, 64),
    ("uib", 5, 5, 2, 96, 3.0), ("uib", 0, 3, 1, 96, 2.0), ("uib", 0, 3, 1, 96, 2.0), ("uib", 0, 3, 1, 96, 2.0),
    ("uib", 0, 3, 1, 96, 2.0), ("uib", 3, 0, 1, 96, 4.0), ("uib", 3, 3, 2, 128, 6.0), ("uib", 5, 5, 1, 128, 4.0),
    ("uib", 0, 5, 1, 128, 4.0), ("uib", 0, 5, 1, 128, 3.0), ("uib", 0, 3, 1, 128, 4.0), ("uib", 0, 3, 1, 128, 4.0),
    ("conv", 1, 1, 960),
)


class MobileNetV4Small(nn.Module):
    """``MobileNetV4Small_Student``: the layer table above on a 1-channel input, global average pool,
    Linear(960, 192)."""

    def __init__(self, output_dim: int = STUDENT_DIM) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for kind, *args in MNV4_SMALL_LAYOUT:
            if kind == "conv":
                k, stride, out = args
                layers.append(ConvBNReLU(channels, out, k, stride))
            else:
                start_k, middle_k, stride, out, expand = args
                layers.append(UIB(channels, out, expand, start_k, middle_k, stride))
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, output_dim))

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(spec))


# --- BC-ResNet-3 student ---------------------------------------------------------------------------

class SubSpectralNorm(nn.Module):
    """BatchNorm over ``sub`` frequency sub-bands per channel (frequency zero-padded to a multiple)."""

    def __init__(self, channels: int, sub: int = 5) -> None:
        super().__init__()
        self.sub = sub
        self.bn = nn.BatchNorm2d(channels * sub)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, f, t = x.shape
        padded = -(-f // self.sub) * self.sub
        if padded != f:
            x = F.pad(x, (0, 0, 0, padded - f))
        y = self.bn(x.reshape(b, c * self.sub, padded // self.sub, t)).reshape(b, c, padded, t)
        return y[:, :, :f]


class BCResBlock(nn.Module):
    """Broadcasted residual block: frequency-wise depthwise conv + SubSpectralNorm (``f2``), its
    frequency mean through a dilated temporal depthwise conv (``f1``), broadcast back and added."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.transition = c_in != c_out or stride != 1
        if self.transition:
            self.proj = nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True))
        else:
            self.proj = nn.Identity()
        width = c_out if self.transition else c_in
        self.f2 = nn.Sequential(nn.Conv2d(width, c_out, (3, 1), (stride, 1), (1, 0), groups=width, bias=False),
                                SubSpectralNorm(c_out))
        self.f1 = nn.Sequential(nn.Conv1d(c_out, c_out, 3, 1, dilation, dilation, groups=c_out, bias=False),
                                nn.BatchNorm1d(c_out), nn.SiLU(), nn.Conv1d(c_out, c_out, 1, bias=False),
                                nn.Dropout(0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.transition:
            x = self.proj(x)
        freq = self.f2(x)
        skip = freq if self.transition else x + freq
        return F.relu(skip + self.f1(freq.mean(dim=2)).unsqueeze(2))


BCRES3_STAGES = ((24, 2, 1, (1, 1)), (36, 2, 2, (1, 1)), (48, 4, 2, (1, 2, 4, 8)), (60, 4, 2, (1, 2, 4, 8)))


class BCResNet3(nn.Module):
    """``BCResNet3_Student``: 5x5 stem (frequency stride 2), four stages of BC-ResBlocks, 5x5
    depthwise + 1x1 conv head, global average pool, Linear(128, 192)."""

    def __init__(self, output_dim: int = STUDENT_DIM) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 24, (5, 5), (2, 1), (2, 2), bias=False), nn.BatchNorm2d(24), nn.ReLU(True))
        self.stages = nn.ModuleList()
        channels = 24
        for width, n_blocks, stride, dilations in BCRES3_STAGES:
            blocks = [BCResBlock(channels if i == 0 else width, width, stride if i == 0 else 1, dilations[i])
                      for i in range(n_blocks)]
            self.stages.append(nn.Sequential(*blocks))
            channels = width
        self.head = nn.Sequential(nn.Conv2d(channels, channels, 5, 1, 0, groups=channels, bias=False),
                                  nn.Conv2d(channels, 128, 1, bias=False), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(128, output_dim))

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        x = self.stem(spec)
        for stage in self.stages:
            x = stage(x)
        return self.head(x)


# --- MobileViT-XXS student -------------------------------------------------------------------------

class PatchTransformerLayer(nn.Module):
    """``CustomTransformer``: pre-LN attention + SiLU FFN (dropout 0.1, inactive at inference)."""

    def __init__(self, dim: int, heads: int, ffn: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(dim, ffn), nn.SiLU(), nn.Dropout(dropout), nn.Linear(ffn, dim),
                                nn.Dropout(dropout))
        self.ln1 = nn.LayerNorm(dim)
        self.ln2 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.ln1(x)
        x = x + self.attn(q, q, q, need_weights=False)[0]
        return x + self.ff(self.ln2(x))


class MobileViTBlock(nn.Module):
    """Local 3x3 + 1x1 convs, transformer layers over the ``patch`` x ``patch`` pixels of each patch
    (as the release arranges them), LayerNorm, 1x1 projection back, 3x3 fusion with the input."""

    def __init__(self, c_in: int, dim: int, ffn: int, n_layers: int, heads: int = 2, patch: int = 2) -> None:
        super().__init__()
        self.p = patch
        self.local = nn.Sequential(nn.Conv2d(c_in, c_in, 3, 1, 1, bias=False), nn.BatchNorm2d(c_in), nn.SiLU(),
                                   nn.Conv2d(c_in, dim, 1, bias=False))
        self.global_trans = nn.Sequential(*[PatchTransformerLayer(dim, heads, ffn) for _ in range(n_layers)])
        self.ln = nn.LayerNorm(dim)
        self.proj = nn.Sequential(nn.Conv2d(dim, c_in, 1, bias=False), nn.BatchNorm2d(c_in), nn.SiLU())
        self.fuse = nn.Sequential(nn.Conv2d(2 * c_in, c_in, 3, 1, 1, bias=False), nn.BatchNorm2d(c_in), nn.SiLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        local = self.local(x)
        b, c, h, w = local.shape
        p, nh, nw = self.p, h // self.p, w // self.p
        seq = local.view(b, c, nh, p, nw, p).permute(0, 2, 4, 3, 5, 1).reshape(b * nh * nw, p * p, c)
        seq = self.ln(self.global_trans(seq))
        back = seq.view(b, nh, nw, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(b, c, h, w)
        return self.fuse(torch.cat([x, self.proj(back)], dim=1))


class MV2(nn.Module):
    """MobileNetV2 inverted residual (SiLU); the 1x1 expansion is skipped when ``expand == 1``."""

    def __init__(self, c_in: int, c_out: int, stride: int, expand: float) -> None:
        super().__init__()
        hidden = int(c_in * expand)
        self.use_res = stride == 1 and c_in == c_out
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.SiLU()]
        layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
                   nn.SiLU(), nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileViTXXS(nn.Module):
    """``MobileViT_XXS_Student``: stem, MV2 stages s1-s5 with MobileViT blocks in s3-s5, 1x1 conv to
    320, global average pool, Linear(320, 192)."""

    def __init__(self, output_dim: int = STUDENT_DIM) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.SiLU())
        self.s1 = MV2(16, 16, 1, 2)
        self.s2 = nn.Sequential(MV2(16, 24, 2, 2), MV2(24, 24, 1, 2))
        self.s3 = nn.Sequential(MV2(24, 48, 2, 2), MobileViTBlock(48, 64, 128, 2))
        self.s4 = nn.Sequential(MV2(48, 64, 2, 2), MobileViTBlock(64, 80, 160, 4))
        self.s5 = nn.Sequential(MV2(64, 80, 2, 2), MobileViTBlock(80, 96, 192, 3))
        self.head = nn.Sequential(nn.Conv2d(80, 320, 1, bias=False), nn.BatchNorm2d(320), nn.SiLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(320, output_dim))

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        x = self.stem(spec)
        for stage in (self.s1, self.s2, self.s3, self.s4, self.s5):
            x = stage(x)
        return self.head(x)


ARCHITECTURES: dict[str, type[nn.Module]] = {
    "listen": ListenNet, "bc-resnet-3": BCResNet3, "mobilevit-xxs": MobileViTXXS,
    "mobilenetv4-small": MobileNetV4Small,
}
