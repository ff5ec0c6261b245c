"""Reference implementation of the probe protocol: one seed at a time, nn.Module + DataLoader +
torch.optim.AdamW + CosineAnnealingLR + clip_grad_norm_ — the straightforward loop a researcher
would write from the authors' DownstreamConfig. Kept as the baseline the fast probe is measured
against (benchmarks/test_probe_speed.py) and as an oracle in tests/test_probe.py.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from impact_bench.metrics import confusion
from impact_bench.probe import ProbeConfig, init_head, split


def reference_probe(x: np.ndarray, y: np.ndarray, n_classes: int, cfg: ProbeConfig) -> list[np.ndarray]:
    """Confusion matrices, one per seed."""
    out = []
    for seed in range(cfg.seeds):
        tr, te = split(y, cfg.train_fraction, seed)
        gen = torch.Generator().manual_seed(seed)
        w1, b1, w2, b2 = init_head(x.shape[1], cfg.hidden, n_classes, gen)
        head = nn.Sequential(nn.Linear(x.shape[1], cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, n_classes))
        with torch.no_grad():
            head[0].weight.copy_(w1.T), head[0].bias.copy_(b1), head[2].weight.copy_(w2.T), head[2].bias.copy_(b2)
        xt = torch.as_tensor(x, dtype=torch.float32)
        yt = torch.as_tensor(y, dtype=torch.int64)
        loader = DataLoader(TensorDataset(xt[tr], yt[tr]), batch_size=cfg.batch_size, shuffle=True, generator=gen)
        opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.max_epochs, eta_min=cfg.lr_min)
        loss_fn = nn.CrossEntropyLoss()
        best, wait = float("inf"), 0
        for _ in range(cfg.max_epochs):
            total = 0.0
            for xb, yb in loader:
                opt.zero_grad()
                loss = loss_fn(head(xb), yb)
                loss.backward()
                nn.utils.clip_grad_norm_(head.parameters(), cfg.grad_clip)
                opt.step()
                total += loss.item() * len(xb)
            sched.step()
            epoch_loss = total / len(tr)
            if epoch_loss < best:
                best, wait = epoch_loss, 0
            else:
                wait += 1
                if wait >= cfg.patience:
                    break
        with torch.no_grad():
            pred = head(xt[te]).argmax(dim=1).numpy()
        out.append(confusion(y[te], pred, n_classes))
    return out
