"""IMPACT's pretraining objective: masking, student decoders, EMA teacher, losses.

reference (authors' code, hanprd/DINOS src/pipelines/EAT_pretraining.py): the student sees
``num_keep`` of 16 patch tokens per clone (16 clones per clip); a CNN *feature* decoder fills masked
slots with a learned mask token and predicts the teacher's layer-averaged patch outputs (MSE on
masked tokens); the utterance loss is MSE between the student CLS and the teacher's layer-averaged CLS, weight 1.0.

paper (§4.2, App. A.3): the frame loss is a Huber loss on *spectrogram reconstruction* by the
Table 5 decoder. Table 5's shapes do not close (Linear 384→512, then ConvT 128→…→16→1, five
×2 upsamplings from a 4 × 4 grid would give 128 only if the ConvT stack started at 128 channels
on 4 × 4). Our coherent geometry: per-token Linear 384→512 as stated; pixel-shuffle 512 = 128 ×
2 × 2 onto an 8 × 8 grid; the four ConvT(k4, s2, p1) + BN + GELU blocks as stated (128→128→64→
32→16; 8→128); the output ConvT 16→1 with k3, s1, p1 instead of k4, s2 (which would give 256).
The Huber loss is taken over the 32 × 32 spectrogram regions of masked tokens. λ = 0.1.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from impact_bench.impact.config import ImpactConfig
from impact_bench.impact.model import ImpactEncoder, sincos_2d

HUBER_DELTA = 1.0  # torch default; the paper names no delta


def keep_indices(grid: int, num_keep: int, clones: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """(clones, num_keep) visible token indices, sorted. ``BlockMaskingGenerator`` (hanprd/DINOS src/utils.py):
    random block × block squares become keep candidates until ≥ num_keep exist; the kept tokens
    are a random choice among the candidates. block ≥ grid reduces to uniform choice."""
    out = np.empty((clones, num_keep), dtype=np.int64)
    for c in range(clones):
        cand = np.zeros((grid, grid), dtype=bool)
        while cand.sum() < num_keep:
            r, s = rng.integers(0, max(grid - block, 0) + 1, size=2)
            cand[r:r + block, s:s + block] = True
        noise = rng.random(grid * grid) + (~cand.reshape(-1))  # candidates sort first
        out[c] = np.sort(np.argsort(noise, kind="stable")[:num_keep])
    return out


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a (N, C, H, W) map (eps 1e-6, as ConvNeXt-style LayerNorm2d)."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class FeatureDecoder(nn.Module):
    """``CNNDecoder(dd, E, depth 6, k3)``: 5 × [ConvT(dd, dd, 3, 1, 1), LayerNorm2d, GELU] + ConvT(dd, E).
    Key layout ``net.{0,3,6,9,12}`` ConvT, ``net.{1,4,7,10,13}`` LayerNorm2d, ``net.15`` output (DINOS src/utils.py)."""

    def __init__(self, dim: int, out_dim: int, depth: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(depth - 1):
            layers += [nn.ConvTranspose2d(dim, dim, 3, stride=1, padding=1), LayerNorm2d(dim), nn.GELU()]
        layers.append(nn.ConvTranspose2d(dim, out_dim, 3, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        return self.net(grid)


class ReconstructionDecoder(nn.Module):
    """Paper Table 5 decoder in the coherent geometry of the module docstring: (N, 512, 4, 4) → (N, 1, 128, 128)."""

    CHANNELS = (128, 128, 64, 32, 16)  # Table 5

    def __init__(self, dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.PixelShuffle(2)]
        chans = (dim // 4,) + self.CHANNELS[1:]
        for c_in, c_out in zip(chans[:-1], chans[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.GELU()]
        layers.append(nn.ConvTranspose2d(chans[-1], 1, 3, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        return self.net(grid)


class ImpactStudent(ImpactEncoder):
    """Encoder + decoder; state-dict keys equal the authors' ``EATMAE`` student (IMPACT_dist bytecode in
    hanprd/DINOS)."""

    def __init__(self, cfg: ImpactConfig) -> None:
        super().__init__(cfg)
        o, e = cfg.objective, cfg.model.embed_dim
        self.decoder_embed = nn.Linear(e, o.decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, o.decoder_dim))
        if o.frame_target == "features":
            self.decoder: nn.Module = FeatureDecoder(o.decoder_dim, e, o.decoder_depth)
        else:
            self.decoder = ReconstructionDecoder(o.decoder_dim)
        self.register_buffer("dec_pos_embed", sincos_2d(o.decoder_dim, self.grid, cls_row=False), persistent=False)
        self.reset_parameters()
        nn.init.normal_(self.mask_token, std=0.02)

    def encoder_state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict().items() if not is_decoder_key(k)}

    def forward_masked(self, tokens: torch.Tensor, keep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (N, G², E) with positions; keep (N, L) → (decoder output grid, student CLS (N, E))."""
        n, g2, e = tokens.shape
        visible = torch.gather(tokens, 1, keep.unsqueeze(-1).expand(-1, -1, e))
        out = self.encoder(self.with_cls(visible))
        dec_vis = self.decoder_embed(out[:, 1:])
        full = self.mask_token.to(dec_vis.dtype).expand(n, g2, -1).clone()
        full.scatter_(1, keep.unsqueeze(-1).expand(-1, -1, dec_vis.shape[-1]), dec_vis)
        full = full + self.dec_pos_embed
        grid = full.transpose(1, 2).reshape(n, -1, self.grid, self.grid)
        return self.decoder(grid), out[:, 0]


def is_decoder_key(key: str) -> bool:
    return key.startswith(("decoder_embed.", "decoder.")) or key == "mask_token"


def make_teacher(student: ImpactStudent) -> ImpactEncoder:
    """Teacher = the student's encoder weights, no decoder, frozen, eval mode (initialised from the student)."""
    teacher = ImpactEncoder(student.cfg)
    teacher.load_state_dict(student.encoder_state_dict(), strict=True)
    teacher.requires_grad_(False)
    return teacher.eval()


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, momentum: float) -> None:
    """teacher ← m·teacher + (1−m)·student over every teacher state key (``update_teacher``);
    integer buffers (BatchNorm's batch counter) are copied."""
    src = student.state_dict()
    for key, t in teacher.state_dict().items():
        s = src[key].detach()
        if t.dtype.is_floating_point:
            t.mul_(momentum).add_(s.to(t.dtype), alpha=1.0 - momentum)
        else:
            t.copy_(s)


def masked_tokens(keep: torch.Tensor, n_tokens: int) -> torch.Tensor:
    """(N, L) kept token indices → (N, n_tokens) bool, True where a token is masked."""
    masked = torch.ones(keep.shape[0], n_tokens, dtype=torch.bool, device=keep.device)
    return masked.scatter_(1, keep, False)


def token_pixel_mask(keep: torch.Tensor, grid: int, size: int) -> torch.Tensor:
    """(N, L) kept tokens → (N, 1, size, size) bool, True on spectrogram pixels of masked tokens."""
    masked = masked_tokens(keep, grid * grid)
    cell = size // grid
    return masked.view(-1, 1, grid, grid).repeat_interleave(cell, 2).repeat_interleave(cell, 3)


def pretraining_loss(student: ImpactStudent, teacher: ImpactEncoder, spec: torch.Tensor,
                     keep: torch.Tensor) -> dict[str, torch.Tensor]:
    """spec (B, 1, F, T); keep (B, K, L) → {"loss", "frame", "utter"} (scalars)."""
    cfg = student.cfg.objective
    b, k, _ = keep.shape
    with torch.no_grad():
        target = teacher_targets(teacher, spec, cfg.target_norm)  # (B, 1 + G², E)
    # Patch-embed once, then clone: identical values and gradients to embedding 16 copies.
    tokens = student.patch_tokens(spec).repeat_interleave(k, dim=0)
    keep_flat = keep.reshape(b * k, -1)
    pred, s_cls = student.forward_masked(tokens, keep_flat)
    u_target = target[:, 0] if cfg.utterance_target == "cls" else target[:, 1:].mean(dim=1)
    utter = F.mse_loss(s_cls.float(), u_target.float().repeat_interleave(k, dim=0))
    if cfg.frame_target == "features":
        masked = masked_tokens(keep_flat, student.grid ** 2)
        pred_tokens = pred.flatten(2).transpose(1, 2)  # (N, G², E)
        t_tokens = target[:, 1:].repeat_interleave(k, dim=0)
        frame = _frame_loss(pred_tokens[masked].float(), t_tokens[masked].float(), cfg.frame_loss)
    else:
        pix = token_pixel_mask(keep_flat, student.grid, spec.shape[-1])
        frame = _frame_loss(pred.float()[pix], spec.repeat_interleave(k, dim=0).float()[pix], cfg.frame_loss)
    return {"loss": frame + cfg.utter_weight * utter, "frame": frame.detach(), "utter": utter.detach()}


def teacher_targets(teacher: ImpactEncoder, spec: torch.Tensor, norm: str) -> torch.Tensor:
    """Layer-averaged teacher outputs; ``norm="instance"`` is the EAT/data2vec 2.0 normalisation
    (config.ObjectiveConfig.target_norm)."""
    if norm == "none":
        return teacher.layer_average(spec)

    def per_layer(x: torch.Tensor) -> torch.Tensor:
        cls = F.layer_norm(x[:, :1], x.shape[-1:])
        patches = F.instance_norm(x[:, 1:].transpose(1, 2)).transpose(1, 2)  # over tokens, per channel
        return torch.cat([cls, patches], dim=1)

    avg = teacher.layer_average(spec, per_layer)
    return F.layer_norm(avg, avg.shape[-1:])


def _frame_loss(pred: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "huber":
        return F.huber_loss(pred, target, delta=HUBER_DELTA)
    return F.mse_loss(pred, target)
