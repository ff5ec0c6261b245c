"""Leaderboard sections for anomaly results, in the official tables' layout.

DCASE 2022+: per machine type AUC-source / AUC-target / pAUC (arithmetic mean over sections, as the
2023/2024 evaluators' "paper" tables), then the official score (harmonic mean). 2020/2021: AUC /
pAUC per machine type. MIMII: AUC / pAUC per machine type × ID, one table per SNR. DINOS anomaly:
AUC / pAUC / best-F1. Published rows (official baselines) are listed only beside real-data results
and marked; runs with a transductive normalisation are marked too. ROC curves per machine type.
"""
from __future__ import annotations

import csv
import re
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tabulate import tabulate  # noqa: E402

from impact_bench.errors import RegistryError  # noqa: E402
from impact_bench.suites.catalog import get_suite  # noqa: E402


def _fields(res: dict[str, Any]) -> tuple[str, ...]:
    layout, year = res["suite"]["layout"], res["suite"]["year"]
    if layout == "dcase" and year >= 2022:
        return ("auc_source", "auc_target", "pauc")
    return ("auc", "pauc", "best_f1") if layout == "dinos-anomaly" else ("auc", "pauc")


def _rows(res: dict[str, Any], set_entry: dict[str, Any]) -> dict[str, dict[str, float]]:
    if res["suite"]["layout"] == "mimii":  # per machine type × ID
        return {f"{mach}/{unit}": vals for mach, e in set_entry["machines"].items()
                for unit, vals in e["sections"].items()}
    return {mach: e["mean"] for mach, e in set_entry["machines"].items()}


def published_rows(suite: str) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """set → system → row → {field: value} for ``suite`` from ``anomaly_published.csv``."""
    try:
        spec = get_suite(suite)
        name = spec.reference.published  # type: ignore[union-attr]
    except (RegistryError, AttributeError):
        return {}
    if not name:
        return {}
    text = (resources.files("impact_bench.published") / name).read_text(encoding="utf-8")
    out: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for row in csv.DictReader(text.splitlines()):
        if row["suite"] == suite:
            vals = {k: float(row[k]) for k in ("auc_source", "auc_target", "pauc", "auc", "score") if row[k]}
            out.setdefault(row["set"], {}).setdefault(row["system"], {})[row["row"]] = vals
    return out


def _cell(vals: dict[str, float] | None, fields: tuple[str, ...]) -> str:
    if not vals or not any(f in vals for f in fields):
        return "–"
    return " / ".join(f"{vals[f]:.4f}" if f in vals else "–" for f in fields)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def roc_figure(path: Path, machine: str, curves: dict[str, dict[str, list[float]]], title: str) -> None:
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    for label, c in curves.items():
        ax.plot(c["fpr"], c["tpr"], label=label, lw=1.2)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls="--")
    ax.axvline(0.1, color="grey", lw=0.5, ls=":")  # pAUC range: FPR ≤ 0.1
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def sections(members: list[tuple[str, dict[str, Any]]], out: Path, figures: bool = True) -> list[str]:
    """Markdown lines for every anomaly suite group; ``members`` are (column label, results)."""
    groups: dict[tuple[str, str, bool], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for label, res in members:
        s = res["suite"]
        groups[(s["comparable_to"], s["version"], s["synthetic"])].append((label, res))
    fig_dir = out.parent / f"{out.stem}_figures"
    lines: list[str] = []
    for (comparable, version, synthetic), runs in sorted(groups.items()):
        first = runs[0][1]
        fields = _fields(first)
        kind = "SYNTHETIC data — not comparable with published numbers" if synthetic else "real data"
        head = {"auc_source": "AUC-s", "auc_target": "AUC-t", "pauc": "pAUC", "auc": "AUC", "best_f1": "best-F1"}
        lines += [f"## Anomaly suite `{comparable}` v{version} ({kind})", "",
                  f"Cells: {' / '.join(head[f] for f in fields)} (official evaluator rules, "
                  f"{'mean over sections' if first['suite']['layout'] == 'dcase' else 'per unit'}); "
                  "last row: the official score (harmonic mean) or mean(AUC, pAUC) where the year has none.", ""]
        if any(r["protocol"]["transductive"] for _, r in runs):
            lines += ["Runs marked [transductive] normalised scores with test-set statistics (RMIS/GenRep style).", ""]
        pub = {} if synthetic else published_rows(first["suite"]["name"])
        for set_name in dict.fromkeys(k for _, r in runs for k in r["sets"]):
            cols = [(f"{label}{' [transductive]' if r['protocol']['transductive'] else ''}", r["sets"].get(set_name))
                    for label, r in runs]
            scored = [(lab, e) for lab, e in cols if e and e.get("scored")]
            published = pub.get(set_name, {})
            if not scored and not published:
                lines += [f"### {set_name}: not scored (labels hidden; run with --ground-truth)", ""]
                continue
            table = {lab: _rows(r, e) for (lab, e), (_, r) in zip(cols, runs) if e and e.get("scored")}
            table.update({f"{sys} (published)": rows for sys, rows in published.items()})
            row_names = list(dict.fromkeys(k for rows in table.values() for k in rows if k != "official score"))
            body = [[row] + [_cell(rows.get(row), fields) for rows in table.values()] for row in row_names]
            values: list[float | None] = []
            for lab, rows in table.items():
                entry = dict(scored).get(lab)
                if entry is not None:
                    val = entry.get("official_score")
                    if val is None and "mean_auc" in entry:
                        val = (entry["mean_auc"] + entry["mean_pauc"]) / 2
                else:
                    val = rows.get("official score", {}).get("score")
                values.append(val)
            best = max((v for v in values if v is not None), default=None)
            total = ["–" if v is None else (f"**{v:.4f}**" if best is not None and abs(v - best) < 5e-5 else f"{v:.4f}")
                     for v in values]
            body.append(["official score" if first["suite"]["year"] and first["suite"]["year"] >= 2021
                         else "mean(AUC, pAUC)"] + total)
            lines += [f"### {set_name}", "", tabulate(body, headers=["machine"] + list(table), tablefmt="github",
                                                      disable_numparse=True), ""]
            if figures:
                links = []
                for mach in dict.fromkeys(mm for _, e in scored for mm in e.get("roc", {})):
                    curves = {f"{lab} {unit}": c for lab, e in scored for unit, c in e.get("roc", {}).get(mach, {}).items()}
                    png = fig_dir / f"roc_{_slug(comparable)}_{_slug(set_name)}_{_slug(mach)}.png"
                    roc_figure(png, mach, curves, f"{comparable} {set_name} — {mach}")
                    links.append(f"[{mach}]({png.relative_to(out.parent).as_posix()})")
                if links:
                    lines += ["ROC curves: " + ", ".join(links), ""]
        lines += ["Runs:", ""] + [
            f"- {label}: encoder {r['encoder']['name']} v{r['encoder']['version']}, suite {r['suite']['name']} "
            f"v{r['suite']['version']}{' [subset]' if r['suite']['subset'] else ''}, "
            f"{r['suite']['data_fingerprint']['files']} clips, back end {r['protocol']['backend']['name']} "
            f"(k={r['protocol']['backend']['k']}, {r['protocol']['backend']['metric']}, normalise="
            f"{r['protocol']['backend']['normalise']}), domains {r['protocol']['domains']}, "
            f"impact-bench {r['provenance']['impact_bench_version']} "
            f"({(r['provenance']['git_commit'] or 'no git')[:8]}), {r['provenance']['created_utc']}"
            for label, r in runs] + [""]
    return lines
