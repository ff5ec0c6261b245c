"""Rank column with tie groups for anomaly leaderboards (issue 13: "which differences are real").

Per set, the runs of one table are ranked on the set's headline (DCASE 2021+: the official harmonic-mean
score; otherwise mean(AUC, pAUC)) with the rule of the classification leaderboards
(:func:`impact_bench.stats.multiple.tie_groups`): the best run and every run not significantly different
from it share rank 1 (two-sided paired bootstrap over clips, strata label × unit × domain, p-values of the
comparisons with the best adjusted together, Holm by default); the rule repeats on the rest. One set of
resamples serves every run (:func:`impact_bench.anomaly.paired.headline_matrix`), so each pair's p-value
is the one ``impact-bench compare`` reports for its ``all`` row; the interval is the percentile interval
of the run's headline under those resamples. Runs that do not pair (different clips or labels) or lack
per-clip data (results before schema 1.2) get no rank, and the page says why.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from tabulate import tabulate

from impact_bench.anomaly.paired import headline_matrix
from impact_bench.compare import ComparisonError, check_comparable
from impact_bench.stats.multiple import tie_groups

N_BOOT = 2_000
SEED = 0


def rank_lines(set_name: str, runs: list[tuple[str, dict[str, Any]]], alpha: float = 0.05,
               correction: str = "holm", n_boot: int = N_BOOT) -> list[str]:
    """Markdown lines ranking the runs that scored ``set_name`` (none when fewer than two did)."""
    scored = [(lab, r) for lab, r in runs if (r["sets"].get(set_name) or {}).get("scored")]
    if len(scored) < 2:
        return []
    if not all("clips" in r["sets"][set_name] for _, r in scored):
        return ["Rank: none — a run lacks per-clip scores (results schema < 1.2).", ""]
    try:
        check_comparable([r for _, r in scored], [lab for lab, _ in scored])
    except ComparisonError as exc:
        return [f"Rank: none — the runs do not pair ({exc}).", ""]
    observed, p, dist = headline_matrix([r for _, r in scored], set_name, n_boot, SEED)
    ranks = tie_groups(observed, p, alpha, correction)
    lo, hi = np.quantile(dist, [alpha / 2, 1 - alpha / 2], axis=0)
    order = sorted(range(len(scored)), key=lambda i: (ranks[i], -observed[i]))
    body = [[str(ranks[i]), scored[i][0], f"{observed[i]:.4f}", f"[{lo[i]:.4f}, {hi[i]:.4f}]"] for i in order]
    method = {"holm": "Holm", "fdr_bh": "Benjamini–Hochberg"}.get(correction, correction)
    return [f"Rank on the {set_name} headline: runs sharing a rank are not significantly different from that "
            f"group's best (paired bootstrap over clips, {n_boot} resamples, seed {SEED}, {method}-adjusted, "
            f"α = {alpha}); interval: 95 % percentile.", "",
            tabulate(body, headers=["rank", "run", "headline", "95 % interval"], tablefmt="github",
                     disable_numparse=True), ""]
