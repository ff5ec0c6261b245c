"""Leaderboard lines for the anomaly figures that are NOT the official score (``anomaly/extra_metrics.py``):
ASDKit's domain AUCs and the pooled, machine-agnostic evaluation; and the grouping mark of runs that
used DCASE 2025 supplementary recordings (``protocol.supplementary``), which never share a table with
runs that did not."""
from __future__ import annotations

from typing import Any

from tabulate import tabulate

DOMAIN_COLUMNS = (("s_auc", "s_AUC"), ("t_auc", "t_AUC"), ("mix_auc", "mix_AUC"), ("smix_auc", "smix_AUC"),
                  ("tmix_auc", "tmix_AUC"))
POOLED_COLUMNS = (("auc", "pooled AUC"), ("pauc", "pooled pAUC"), ("rule_score", "pooled, official rule"))


def supplementary_mode(res: dict[str, Any]) -> str:
    """``ignore`` for results written before the option existed."""
    return (res.get("protocol") or {}).get("supplementary") or "ignore"


def group_title(mode: str) -> str:
    return "" if mode == "ignore" else f", supplementary recordings used (`{mode}`)"


def group_note(mode: str) -> list[str]:
    if mode == "ignore":
        return []
    return [f"These runs used the release's supplementary recordings (`--supplementary {mode}`, docs/anomaly.md): "
            "extra data, kept apart from runs that did not use it.", ""]


def _fmt(v: Any) -> str:
    return "–" if v is None else f"{v:.4f}"


def extra_table(set_name: str, scored: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """One row per run: the set's ASDKit domain totals, the pooled evaluation, the per-machine scores pooled."""
    rows = []
    for label, entry in scored:
        extra, pooled = entry.get("extra_metrics"), entry.get("pooled")
        if not extra and not pooled:
            continue
        total = (extra or {}).get("total", {})
        pool = pooled or {}
        rows.append([label] + [_fmt(total.get(k)) for k, _ in DOMAIN_COLUMNS]
                    + [_fmt(pool.get(k)) for k, _ in POOLED_COLUMNS]
                    + [_fmt((pool.get("machine_detectors") or {}).get("auc"))])
    if not rows:
        return []
    heads = (["run"] + [h for _, h in DOMAIN_COLUMNS] + [h for _, h in POOLED_COLUMNS]
             + ["per-machine scores pooled AUC"])
    return [f"#### {set_name}: not the official score — ASDKit domain AUCs and pooled (machine-agnostic) evaluation", "",
            "s/t/mix/smix/tmix AUC: ASDKit's definitions per section (s: source normals vs source anomalies; t: "
            "target; mix: all clips; smix/tmix: one domain's normals vs all anomalies = the official AUC-s/AUC-t), "
            "totals over sections and machine types by ASDKit's rule (harmonic mean 2021+, mean otherwise). Pooled: "
            "one detector over every machine type's training clips, test clips scored without machine identity "
            "(arXiv 2602.16253); AUC/pAUC over all clips of the set, and the official aggregation of its scores. "
            "Last column: the per-machine detectors' scores pooled as they are.", "",
            tabulate(rows, headers=heads, tablefmt="github", disable_numparse=True), ""]
