"""A plain-torch ViT with timm's parameter names (``VisionTransformer``: ``patch_embed.proj``, ``cls_token``,
``pos_embed``, ``blocks.{i}.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}``, ``norm`` / ``fc_norm``, ``head``).

timm does not import here (it needs a torchvision built for this torch); AudioMAE (ViT-B/16) and OPERA-GT
(ViT-S/4) are timm ViTs, so their checkpoints load into this module unchanged. Pre-LN blocks, LayerNorm
eps 1e-6, exact GELU, no layer scale, fused attention; the positional table is a buffer-like parameter
loaded from the checkpoint, never regenerated (facebookresearch/AudioMAE: the stored table is laid out
for its pretraining ``PatchEmbed_org`` grid).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LN_EPS = 1e-6  # timm ViT: partial(nn.LayerNorm, eps=1e-6)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=LN_EPS), nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = Attention(dim, heads)
        self.mlp = Mlp(dim, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch: int, dim: int, in_chans: int = 1) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # row-major over the (H/p, W/p) grid


class ViT(nn.Module):
    """``head``: "norm" (MAE encoder: final LayerNorm), "fc_norm" (fine-tuned, global pool: LayerNorm after
    the mean, optional classifier ``head`` of ``num_classes``)."""

    def __init__(self, *, patch: int, dim: int, depth: int, heads: int, hidden: int, tokens: int,
                 pooling_norm: str = "norm", num_classes: int = 0) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(patch, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens + 1, dim), requires_grad=False)
        self.blocks = nn.ModuleList(Block(dim, heads, hidden) for _ in range(depth))
        self.pooling_norm = pooling_norm
        if pooling_norm == "norm":
            self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        else:
            self.fc_norm = nn.LayerNorm(dim, eps=LN_EPS)
            if num_classes:
                self.head = nn.Linear(dim, num_classes)

    def tokens(self, x: torch.Tensor, pos_slice: bool = False) -> torch.Tensor:
        """(B, 1, H, W) → (B, 1 + N, D) after the last block. ``pos_slice``: use the first N positions of a
        longer table (OPERA-GT on shorter inputs), else the table must fit exactly."""
        x = self.patch_embed(x)
        n = x.shape[1]
        if not pos_slice and n + 1 != self.pos_embed.shape[1]:
            raise ValueError(f"ViT: {n} patches but a positional table for {self.pos_embed.shape[1] - 1}")
        x = x + self.pos_embed[:, 1:n + 1]
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1)
        for blk in self.blocks:
            x = blk(x)
        return x
