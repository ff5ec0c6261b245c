"""The LISTEN release's downstream head and its training recipe, as a probe option (``--probe listen``).

Head (``AudioClassifier`` in github.com/hanprd/LISTEN ``LISTEN_train_downstream.py``):
Linear(D, 256) → ReLU → LayerNorm(256) → Linear(256, 256) → ReLU → Linear(256, C).
Recipe (same file, ``DistillConfig`` and ``train_classifier``): AdamW lr 5e-4, weight decay 1e-3
(β and ε torch defaults), batch 16 reshuffled every epoch, 200 epochs, cross-entropy,
ReduceLROnPlateau(mode "min", factor 0.5, patience 5) stepped on the epoch's mean batch loss; the
weights after the last epoch are kept. The release seeds everything with 42 through the global RNGs;
here seed ``s`` of a run seeds the head's initialisation (inside a forked RNG, so the caller's global
state is untouched) and a private generator for the batch order. The release trains in fp16 autocast on
CUDA; this runs in fp32 everywhere.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from impact_bench.metrics import confusion
from impact_bench.probe import SeedOutcome, split


class ListenHead(nn.Module):
    """``AudioClassifier`` with the release's parameter names; returns logits."""

    def __init__(self, input_dim: int, num_classes: int, hidden: int = 256) -> None:
        super().__init__()
        self.layer1 = nn.Linear(input_dim, hidden)
        self.layer2 = nn.Linear(hidden, hidden)
        self.layer3 = nn.Linear(hidden, num_classes)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(F.relu(self.layer1(x)))
        return self.layer3(F.relu(self.layer2(x)))


@dataclass(frozen=True)
class ListenHeadConfig:
    seeds: int = 10
    train_fraction: float = 0.2   # used by the paper split only
    hidden: int = 256
    lr: float = 5e-4
    weight_decay: float = 1e-3
    batch_size: int = 16
    epochs: int = 200
    plateau_factor: float = 0.5
    plateau_patience: int = 5
    standardize: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"head": "listen", **asdict(self)}


def train_head(x: torch.Tensor, y: torch.Tensor, n_classes: int, cfg: ListenHeadConfig,
               seed: int) -> tuple[ListenHead, float]:
    """One head trained by the release's recipe; (head in eval mode, last epoch's mean batch loss)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        head = ListenHead(x.shape[1], n_classes, cfg.hidden).to(x.device)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=cfg.plateau_factor,
                                                       patience=cfg.plateau_patience)
    head.train()
    epoch_loss = float("nan")
    for _ in range(cfg.epochs):
        order = torch.randperm(len(y), generator=gen).to(x.device)
        total = torch.zeros((), dtype=torch.float64, device=x.device)
        batches = 0
        for start in range(0, len(y), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(head(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.detach()
            batches += 1
        epoch_loss = float(total) / batches  # the release's running_loss / len(loader)
        sched.step(epoch_loss)
    return head.eval(), epoch_loss


def run_listen_probe(x: np.ndarray, y: np.ndarray, n_classes: int, cfg: ListenHeadConfig, device: str = "cpu",
                     fixed_split: tuple[np.ndarray, np.ndarray] | None = None) -> list[SeedOutcome]:
    """``cfg.seeds`` heads, each fitted on its training split and scored on its test split."""
    dev = torch.device(device)
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64))
    outcomes = []
    for seed in range(cfg.seeds):
        tr, te = fixed_split if fixed_split is not None else split(y, cfg.train_fraction, seed)
        if len(set(tr.tolist()) & set(te.tolist())):
            raise ValueError("train and test indices overlap")
        x_tr, x_te = xt[tr].to(dev), xt[te].to(dev)
        if cfg.standardize:
            mu, sd = x_tr.mean(0, keepdim=True), x_tr.std(0, unbiased=False, keepdim=True).clamp_min(1e-8)
            x_tr, x_te = (x_tr - mu) / sd, (x_te - mu) / sd
        head, last = train_head(x_tr, yt[tr].to(dev), n_classes, cfg, seed)
        with torch.inference_mode():
            proba = torch.softmax(head(x_te).double(), dim=-1).cpu().numpy()
        pred = proba.argmax(axis=1)
        outcomes.append(SeedOutcome(seed, tr, te, pred, confusion(y[te], pred, n_classes), cfg.epochs, last, proba))
    return outcomes
