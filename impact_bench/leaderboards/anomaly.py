"""Leaderboard sections for anomaly results, in the official tables' layout.

DCASE 2022+: per machine type AUC-source / AUC-target / pAUC (arithmetic mean over sections, as the
2023/2024 evaluators' "paper" tables), then the official score (harmonic mean). 2020/2021: AUC /
pAUC per machine type. MIMII: AUC / pAUC per machine type × ID, one table per SNR. DINOS anomaly:
AUC / pAUC / best-F1. Published rows (official baselines) are listed only beside real-data results
and marked; runs with a transductive normalisation are marked too. ROC curves per machine type.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tabulate import tabulate  # noqa: E402

from impact_bench.anomaly.metrics import combined_score, machine_score, set_score  # noqa: E402
from impact_bench.anomaly.reference import reference_rows, rows_from  # noqa: E402
from impact_bench.leaderboards.anomaly_extra import (extra_table, group_note, group_title,  # noqa: E402
                                                     supplementary_mode)
from impact_bench.leaderboards.anomaly_ranks import rank_lines  # noqa: E402
from impact_bench.leaderboards.common import bold_best as _bold_best, runs_lines, slug as _slug  # noqa: E402
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
    """set → system → row → {field: value}: the curated official-baseline rows the suite file names."""
    try:
        name = get_suite(suite).reference.published  # type: ignore[union-attr]
    except (RegistryError, AttributeError):
        return {}
    return rows_from(name, suite) if name else {}


def _cell(vals: dict[str, float] | None, fields: tuple[str, ...]) -> str:
    if not vals or not any(f in vals for f in fields):
        return "–"
    return " / ".join(f"{vals[f]:.4f}" if f in vals else "–" for f in fields)


def per_machine_table(comparable: str, year: int, set_name: str,
                      scored: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Our runs beside the published per-machine-type tables (Han et al., Tables I, II, VI-X)."""
    pub = reference_rows(comparable, "hmean" if year != 2020 else "mean_auc_pauc").get(set_name, {})
    if not pub:
        return []
    cols: dict[str, dict[str, float]] = {}
    for lab, e in scored:
        cols[lab] = {mach: machine_score(year, me) for mach, me in e["machines"].items()}
        cols[lab]["all"] = set_score(year, e)
    for system, rows in pub.items():
        cols[f"{system} (published)"] = {row: next(iter(v.values())) for row, v in rows.items()}
    names = list(dict.fromkeys(k for c in cols.values() for k in c if k != "all")) + ["all"]
    body = [[name] + ["–" if c.get(name) is None else f"{c[name]:.4f}" for c in cols.values()] for name in names]
    what = "mean of AUC and pAUC" if year == 2020 else "harmonic mean of AUC and pAUC"
    return [f"Per machine type, {what} (the published tables' figure; `all` = the set's score). Published "
            "systems are fine-tuned or trained on the task (Han et al.), not frozen encoders:", "",
            tabulate(body, headers=["machine"] + list(cols), tablefmt="github", disable_numparse=True), ""]


def anchors_table(comparable: str, year: int, runs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """One figure per year over dev and eval, beside RMIS's frozen-encoder KNN anchors."""
    pub = reference_rows(comparable).get("dev+eval", {})
    ours = [(lab, combined_score(year, r["sets"]))  # labels carry the [transductive] mark
            for lab, r in runs]
    ours = [(lab, v) for lab, v in ours if v is not None]
    if not pub or not ours:
        return []
    rows = ours + [(f"{system} (published)", next(iter(rows["all"].values()))) for system, rows in pub.items()]
    cells = _bold_best([v for _, v in rows])
    rule = "mean of dev and eval" if year == 2020 else "harmonic mean of the dev and eval scores"
    return [f"### dev + eval ({rule}, as the RMIS leaderboard)", "",
            "RMIS anchors: frozen encoders, KNN k=1 cosine per section, test-set z-normalised scores "
            "(transductive), 10-s windows; compare with runs using `--backend-opt normalise=test-z`.", "",
            tabulate([[lab, c] for (lab, _), c in zip(rows, cells)], headers=["system", "score"], tablefmt="github",
                     disable_numparse=True), ""]


SUPERVISED_METRICS = ("accuracy", "precision", "recall", "f1", "auc")


def supervised_section(comparable: str, runs: list[tuple[str, dict[str, Any]]], synthetic: bool) -> list[str]:
    """MIMII protocol (b): per SNR, per machine type, acc / P / R / F1 / AUC (mean over seeds)."""
    pub = {} if synthetic else reference_rows(comparable)
    lines = ["Cells: accuracy / precision / recall / F1 / AUC of the abnormal class (mean over seeded "
             "80/20 splits); second table per SNR: the Youden-index operating point.", ""]
    if any(r["protocol"].get("youden_from") == "test" for _, r in runs):
        lines += ["Runs marked [test-tuned] chose the Youden cut point on the test split's ROC, as the report does.", ""]
    for set_name in dict.fromkeys(k for _, r in runs for k in r["sets"]):
        for title, prefix in (("default threshold (argmax)", ""), ("Youden-index threshold", "youden_")):
            table: dict[str, dict[str, list[float]]] = {}
            for lab, r in runs:
                tag = " [test-tuned]" if prefix and r["protocol"].get("youden_from") == "test" else ""
                e = r["sets"].get(set_name, {})
                table[lab + tag] = {mach: [(me["youden"]["mean"] if prefix else me["mean"])[k] for k in SUPERVISED_METRICS]
                                    for mach, me in e.get("machines", {}).items()}
            for system, rows in pub.get(set_name, {}).items():
                got = {mach: [v.get(prefix + k) for k in SUPERVISED_METRICS] for mach, v in rows.items()}
                got = {mach: vals for mach, vals in got.items() if any(x is not None for x in vals)}
                if got:
                    table[f"{system} (published)"] = got  # type: ignore[assignment]
            machines = list(dict.fromkeys(mm for c in table.values() for mm in c))
            body = [[mach] + [" / ".join("–" if x is None else f"{x:.3f}" for x in c[mach]) if mach in c else "–"
                              for c in table.values()] for mach in machines]
            lines += [f"### {set_name}: {title}", "",
                      tabulate(body, headers=["machine"] + list(table), tablefmt="github", disable_numparse=True), ""]
    lines += runs_lines(runs, lambda r: (
        f"probe {r['protocol']['probe']['seeds']} seeds × {r['protocol']['probe']['train_fraction']:.0%} train, "
        f"Youden cut point from {r['protocol']['youden_from']}"))
    return lines


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


def first_shot_mark(res: dict[str, Any]) -> str:
    """The label mark of a DCASE 2023+ run whose back end was not selected on dev (``protocol.first_shot``)."""
    fs = (res.get("protocol") or {}).get("first_shot") or {}
    return " [not first-shot]" if fs.get("applies") and fs.get("clean") is False else ""


def sections(members: list[tuple[str, dict[str, Any]]], out: Path, figures: bool = True) -> list[str]:
    """Markdown lines for every anomaly suite group; ``members`` are (column label, results)."""
    groups: dict[tuple[str, str, bool, str], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for label, res in members:  # runs that used supplementary recordings form their own group
        s = res["suite"]
        groups[(s["comparable_to"], s["version"], s["synthetic"], supplementary_mode(res))].append(
            (label + first_shot_mark(res), res))
    fig_dir = out.parent / f"{out.stem}_figures"
    lines: list[str] = []
    for (comparable, version, synthetic, supp), runs in sorted(groups.items(),
                                                              key=lambda g: (g[0][:3], g[0][3] != "ignore", g[0][3])):
        first = runs[0][1]
        kind = "SYNTHETIC data — not comparable with published numbers" if synthetic else "real data"
        if first["protocol"].get("scheme") == "supervised":
            lines += [f"## Anomaly suite `{comparable}` v{version} ({kind}), supervised protocol (b)", ""]
            lines += supervised_section(comparable, runs, synthetic)
            continue
        fields = _fields(first)
        head = {"auc_source": "AUC-s", "auc_target": "AUC-t", "pauc": "pAUC", "auc": "AUC", "best_f1": "best-F1"}
        lines += [f"## Anomaly suite `{comparable}` v{version} ({kind}){group_title(supp)}", ""] + group_note(supp) + [
                  f"Cells: {' / '.join(head[f] for f in fields)} (official evaluator rules, "
                  f"{'mean over sections' if first['suite']['layout'] == 'dcase' else 'per unit'}); "
                  "last row: the official score (harmonic mean) or mean(AUC, pAUC) where the year has none.", ""]
        if any(r["protocol"]["transductive"] for _, r in runs):
            lines += ["Runs marked [transductive] normalised scores with test-set statistics (RMIS/GenRep style).", ""]
        if any(first_shot_mark(r) for _, r in runs):
            lines += ["Runs marked [not first-shot] used a back end that was neither chosen on the dev set "
                      "(`impact-bench select-backend`, then `run --backend-from`) nor the suite default, so it "
                      "may have been tuned on eval; DCASE 2023+ rank first-shot systems only.", ""]
        pub = {} if synthetic else published_rows(first["suite"]["name"])
        for set_name in dict.fromkeys(k for _, r in runs for k in r["sets"]):
            cols = [(label, r["sets"].get(set_name))
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
            total = _bold_best(values)
            body.append(["official score" if first["suite"]["year"] and first["suite"]["year"] >= 2021
                         else "mean(AUC, pAUC)"] + total)
            lines += [f"### {set_name}", "", tabulate(body, headers=["machine"] + list(table), tablefmt="github",
                                                      disable_numparse=True), ""]
            lines += rank_lines(set_name, runs)  # tie groups on the set's headline (anomaly_ranks.py)
            if not synthetic and first["suite"]["layout"] == "dcase":
                lines += per_machine_table(comparable, int(first["suite"]["year"]), set_name, scored)
            lines += extra_table(set_name, scored)  # not the official score (anomaly_extra.py)
            if figures:
                links = []
                for mach in dict.fromkeys(mm for _, e in scored for mm in e.get("roc", {})):
                    curves = {f"{lab} {unit}": c for lab, e in scored for unit, c in e.get("roc", {}).get(mach, {}).items()}
                    tag = "" if supp == "ignore" else f"_supp-{_slug(supp)}"
                    png = fig_dir / f"roc_{_slug(comparable)}{tag}_{_slug(set_name)}_{_slug(mach)}.png"
                    roc_figure(png, mach, curves, f"{comparable} {set_name} — {mach}")
                    links.append(f"[{mach}]({png.relative_to(out.parent).as_posix()})")
                if links:
                    lines += ["ROC curves: " + ", ".join(links), ""]
        if not synthetic and first["suite"]["layout"] == "dcase":
            lines += anchors_table(comparable, int(first["suite"]["year"]), runs)
        lines += runs_lines(runs, lambda r: (
            f"back end {r['protocol']['backend']['name']} (k={r['protocol']['backend']['k']}, "
            f"{r['protocol']['backend']['metric']}, normalise={r['protocol']['backend']['normalise']}), "
            f"domains {r['protocol']['domains']}"))
    return lines
