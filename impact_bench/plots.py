"""Figures for the leaderboards: per-machine F1 bars with error bars (paper Fig. 5) and confusion
matrices summed over seeds (paper Figs. 7-10). matplotlib, Agg backend, PNG."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def bar_chart(path: Path, rows: list[str], columns: dict[str, dict[str, tuple[float, float]]], title: str) -> None:
    """Grouped bars: one group per row (machine), one bar per column (model), ± std."""
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(rows) + 0.25 * len(rows) * len(columns)), 4.2))
    width = 0.8 / max(len(columns), 1)
    x = np.arange(len(rows))
    for k, (label, cells) in enumerate(columns.items()):
        means = [cells.get(r, (np.nan, 0))[0] for r in rows]
        stds = [cells.get(r, (np.nan, 0))[1] for r in rows]
        ax.bar(x + (k - (len(columns) - 1) / 2) * width, means, width, yerr=stds, capsize=2, label=label)
    ax.set_xticks(x, rows)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("macro F1 (mean ± std over seeds)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=min(len(columns), 4), loc="upper center", bbox_to_anchor=(0.5, -0.1))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def confusion_figure(path: Path, matrix: list[list[int]], labels: list[str], title: str) -> None:
    cm = np.asarray(matrix)
    size = max(3.5, 0.45 * len(labels) + 1.5)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(labels) <= 17:
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def significance_matrix(path: Path, labels: list[str], diff: np.ndarray, p_adj: np.ndarray, title: str,
                        alpha: float = 0.05) -> None:
    """Heatmap of the pairwise difference row − column (diverging colours, greyed where not significant) with
    the adjusted p-value in each cell (``*`` when below ``alpha``)."""
    d = np.asarray(diff, dtype=float)
    p = np.asarray(p_adj, dtype=float)
    k = len(labels)
    lim = max(float(np.abs(d).max()), 1e-6)
    shown = np.where(p < alpha, d, 0.0)
    np.fill_diagonal(shown, np.nan)
    size = max(4.0, 0.9 * k + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    im = ax.imshow(shown, cmap="RdBu", vmin=-lim, vmax=lim)
    ax.set_xticks(range(k), labels, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(k), labels, fontsize=7)
    for i in range(k):
        for j in range(k):
            if i == j:
                continue
            star = "*" if p[i, j] < alpha else ""
            ax.text(j, i, f"{d[i, j]:+.3f}\np={p[i, j]:.3g}{star}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=f"row − column (coloured where Holm p < {alpha})")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
