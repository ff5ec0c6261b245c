"""The paper's probe on frozen embeddings, all seeds trained at once.

Protocol (IMPACT paper §5.1; optimiser from the authors' IMPACT_dist DownstreamConfig):
per seed s in 0..S-1, a stratified split with ``train_fraction`` (scikit-learn
``train_test_split(stratify=y, random_state=s)``); head Linear(D,H) → ReLU → Linear(H,C) with
PyTorch's default Linear init drawn from ``torch.Generator().manual_seed(s)``; AdamW (β 0.9/0.999,
ε 1e-8) with decoupled weight decay, batch 32 reshuffled each epoch by the same generator, ≤ max
epochs, cosine learning rate per epoch down to ``lr_min``, stop after ``patience`` epochs without a
lower mean training loss, per-seed gradient-norm clipping, cross-entropy. The final weights are
evaluated on the held-out clips.

Speed: every seed has the same train-set size, so the S heads are stacked and trained with
batched matmuls; forward and backward are written out (a 2-layer MLP), the clipping norm comes
from small Gram matrices, AdamW is torch's fused kernel over the stack, and a seed that stops
early leaves the stack with its weights frozen. The unbatched reference loop
kept in ``benchmarks/`` implements the same protocol one seed at a time with a DataLoader.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from impact_bench.metrics import confusion
from impact_bench.suites.spec import ProbeHyperparameters

BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.AdamW defaults
CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_: max_norm / (total_norm + 1e-6)
FUSED_ADAMW = getattr(torch, "_fused_adamw_", None)  # the kernel behind AdamW(fused=True)


_PAPER = ProbeHyperparameters()  # the defaults live once, in the suite schema (impact_bench.suites.spec)


@dataclass(frozen=True)
class ProbeConfig:
    seeds: int = _PAPER.seeds
    train_fraction: float = _PAPER.train_fraction
    hidden: int = _PAPER.hidden
    lr: float = _PAPER.lr
    weight_decay: float = _PAPER.weight_decay
    batch_size: int = _PAPER.batch_size
    max_epochs: int = _PAPER.max_epochs
    lr_min: float = _PAPER.lr_min
    patience: int = _PAPER.patience
    grad_clip: float = _PAPER.grad_clip
    standardize: bool = False

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class SeedOutcome:
    seed: int
    train_idx: np.ndarray
    test_idx: np.ndarray
    y_pred: np.ndarray
    confusion: np.ndarray
    epochs: int
    final_train_loss: float
    proba: np.ndarray | None = None  # (n_test, C) softmax probabilities of the final head


def split(y: np.ndarray, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, train_size=train_fraction, stratify=y, random_state=seed)
    return np.sort(tr), np.sort(te)


def init_head(d: int, h: int, c: int, gen: torch.Generator) -> list[torch.Tensor]:
    """PyTorch's default nn.Linear init: U(±1/sqrt(fan_in)) for weight and bias (kaiming_uniform a=√5).
    Weights returned transposed, (in, out), for x @ W."""
    def uniform(shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
        bound = 1.0 / math.sqrt(fan_in)
        return (torch.rand(shape, generator=gen) * 2 - 1) * bound
    w1 = uniform((h, d), d).T.contiguous()
    b1 = uniform((h,), d)
    w2 = uniform((c, h), h).T.contiguous()
    b2 = uniform((c,), h)
    return [w1, b1, w2, b2]


def cosine_lr(cfg: ProbeConfig, epoch: int) -> float:
    """CosineAnnealingLR(T_max=max_epochs, eta_min=lr_min) in closed form, stepped per epoch."""
    return cfg.lr_min + (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * epoch / cfg.max_epochs)) / 2


def _forward_backward(params: list[torch.Tensor], xb: torch.Tensor, yb: torch.Tensor, clip: float | None,
                      out: list[torch.Tensor] | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Mean cross-entropy per seed (S,) and the gradients of the stacked 2-layer MLP.

    With ``clip``, gradients come out already scaled by min(1, clip / (‖g‖ + 1e-6)) per seed.
    The norm is exact without forming the big weight gradient: ‖Xᵀ D‖²_F = Σ (X Xᵀ) ∘ (D Dᵀ), so
    the (D × H) gradient is written once, scaled, into ``out``.
    """
    w1, b1, w2, b2 = params
    z1 = torch.baddbmm(b1.unsqueeze(1), xb, w1)
    h = torch.relu(z1)
    logp = torch.log_softmax(torch.baddbmm(b2.unsqueeze(1), h, w2), dim=-1)
    loss = -logp.gather(-1, yb.unsqueeze(-1)).squeeze(-1).mean(dim=1)
    d_logits = logp.exp()
    d_logits.scatter_add_(-1, yb.unsqueeze(-1), torch.full((*yb.shape, 1), -1.0, dtype=d_logits.dtype,
                                                              device=d_logits.device))
    d_logits /= xb.shape[1]
    d_z1 = torch.bmm(d_logits, w2.transpose(1, 2)) * (z1 > 0)
    g_b1, g_b2 = d_z1.sum(dim=1), d_logits.sum(dim=1)
    if clip is not None:
        sq = ((torch.bmm(xb, xb.transpose(1, 2)) * torch.bmm(d_z1, d_z1.transpose(1, 2))).sum(dim=(1, 2))
              + (torch.bmm(h, h.transpose(1, 2)) * torch.bmm(d_logits, d_logits.transpose(1, 2))).sum(dim=(1, 2))
              + g_b1.pow(2).sum(dim=1) + g_b2.pow(2).sum(dim=1))
        coef = torch.clamp(clip / (sq.clamp_min(0).sqrt() + CLIP_EPS), max=1.0)
        d_z1, d_logits = d_z1 * coef.view(-1, 1, 1), d_logits * coef.view(-1, 1, 1)
        g_b1, g_b2 = g_b1 * coef.view(-1, 1), g_b2 * coef.view(-1, 1)
    if out is None:
        out = [torch.empty_like(p) for p in params]
    torch.bmm(xb.transpose(1, 2), d_z1, out=out[0])
    out[1].copy_(g_b1)
    torch.bmm(h.transpose(1, 2), d_logits, out=out[2])
    out[3].copy_(g_b2)
    return loss, out


def _adamw_step(params: list[torch.Tensor], grads: list[torch.Tensor], m: list[torch.Tensor],
                v: list[torch.Tensor], step: int, lr: float, wd: float) -> None:
    """One AdamW update (torch.optim.AdamW semantics) on every stacked tensor; torch's fused CPU
    kernel when present (one pass over memory), else the same arithmetic in plain ops."""
    if FUSED_ADAMW is not None:
        steps = [torch.tensor(float(step)) for _ in params]
        FUSED_ADAMW(params, grads, m, v, [], steps, lr=lr, beta1=BETAS[0], beta2=BETAS[1], weight_decay=wd,
                     eps=ADAM_EPS, amsgrad=False, maximize=False)
        return
    bc1, bc2 = 1 - BETAS[0] ** step, 1 - BETAS[1] ** step
    for p, g, mm, vv in zip(params, grads, m, v):
        p.mul_(1 - lr * wd)
        mm.mul_(BETAS[0]).add_(g, alpha=1 - BETAS[0])
        vv.mul_(BETAS[1]).addcmul_(g, g, value=1 - BETAS[1])
        p.addcdiv_(mm, (vv / bc2).sqrt_().add_(ADAM_EPS), value=-lr / bc1)


def _logits(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    w1, b1, w2, b2 = params
    h = torch.relu(torch.baddbmm(b1.unsqueeze(1), x, w1))
    return torch.baddbmm(b2.unsqueeze(1), h, w2)


def run_probe(x: np.ndarray, y: np.ndarray, n_classes: int, cfg: ProbeConfig, device: str = "cpu",
              fixed_split: tuple[np.ndarray, np.ndarray] | None = None,
              splits: list[tuple[np.ndarray, np.ndarray]] | None = None) -> list[SeedOutcome]:
    """Train and evaluate ``cfg.seeds`` heads on embeddings ``x`` (N, D) with labels ``y`` in [0, C).

    ``fixed_split`` (train, test indices) replaces the per-seed re-split (``--split official``);
    seeds then vary only the head initialisation and batch order. ``splits`` gives each seed its own
    (train, test) indices instead; the training sets must have equal sizes (the heads are stacked).
    """
    dev = torch.device(device)
    seeds = list(range(cfg.seeds))
    if splits is None:
        splits = [fixed_split if fixed_split is not None else split(y, cfg.train_fraction, s) for s in seeds]
    elif len(splits) != cfg.seeds or len({len(tr) for tr, _ in splits}) != 1 or len({len(te) for _, te in splits}) != 1:
        raise ValueError(f"splits: need {cfg.seeds} (train, test) pairs with equal train and equal test sizes")
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64))
    x_tr = torch.stack([xt[tr] for tr, _ in splits]).to(dev)
    x_te = torch.stack([xt[te] for _, te in splits]).to(dev)
    y_tr = torch.stack([yt[tr] for tr, _ in splits]).to(dev)
    if cfg.standardize:  # statistics from each seed's training split only
        mu = x_tr.mean(dim=1, keepdim=True)
        sd = x_tr.std(dim=1, keepdim=True, unbiased=False).clamp_min(1e-8)
        x_tr, x_te = (x_tr - mu) / sd, (x_te - mu) / sd
    n_seeds, n_train, dim = x_tr.shape
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    heads = [init_head(dim, cfg.hidden, n_classes, g) for g in gens]
    params = [torch.stack([hd[k] for hd in heads]).to(dev) for k in range(4)]
    final = [p.clone() for p in params]  # rows are filled in as seeds stop
    alive = list(range(n_seeds))  # seeds still training; the stacks hold only these rows
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    grads = [torch.empty_like(p) for p in params]
    xa, ya = x_tr, y_tr
    best = [math.inf] * n_seeds
    wait, epochs, last_loss = [0] * n_seeds, [0] * n_seeds, [0.0] * n_seeds
    step = 0
    for epoch in range(cfg.max_epochs):
        lr = cosine_lr(cfg, epoch)
        perms = torch.stack([torch.randperm(n_train, generator=gens[s]) for s in alive]).to(dev)
        rows = torch.arange(len(alive), device=dev).unsqueeze(1)
        loss_sum = torch.zeros(len(alive), dtype=torch.float64, device=dev)
        for start in range(0, n_train, cfg.batch_size):
            idx = perms[:, start:start + cfg.batch_size]
            loss, grads = _forward_backward(params, xa[rows, idx], ya[rows, idx], cfg.grad_clip, grads)
            loss_sum += loss.double() * idx.shape[1]
            step += 1  # all alive seeds have taken the same number of updates
            _adamw_step(params, grads, m, v, step, lr, cfg.weight_decay)
        epoch_loss = (loss_sum / n_train).tolist()
        keep = []
        for row, s in enumerate(alive):
            epochs[s], last_loss[s] = epoch + 1, epoch_loss[row]
            if epoch_loss[row] < best[s]:
                best[s], wait[s] = epoch_loss[row], 0
            else:
                wait[s] += 1
            if wait[s] >= cfg.patience or epoch + 1 == cfg.max_epochs:
                for f, p in zip(final, params):
                    f[s] = p[row]
            else:
                keep.append(row)
        if len(keep) < len(alive):
            sel = torch.tensor(keep, dtype=torch.long, device=dev)
            alive = [alive[r] for r in keep]
            params, m, v = [p[sel] for p in params], [t[sel] for t in m], [t[sel] for t in v]
            grads = [torch.empty_like(p) for p in params]
            xa, ya = xa[sel], ya[sel]
        if not alive:
            break
    logits = _logits(final, x_te)
    preds = logits.argmax(dim=-1).cpu().numpy()
    proba = torch.softmax(logits.double(), dim=-1).cpu().numpy()
    outcomes = []
    for s, (tr, te) in enumerate(splits):
        cm = confusion(y[te], preds[s], n_classes)
        outcomes.append(SeedOutcome(s, tr, te, preds[s], cm, epochs[s], float(last_loss[s]), proba[s]))
    return outcomes
