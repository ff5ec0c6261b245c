"""Markdown (or LaTeX) leaderboards in the layout of the IMPACT paper's Table 3 (per machine) and
Table 4 (per task), built only from complete, validated results files.

Columns are grouped by comparability: results share a table only when their suite's
``comparable_to`` and version agree and they are all real or all synthetic. The published numbers
belong to the real ``dinos`` group; synthetic results get their own tables, with the published
ones printed separately for orientation only. Best mean in each row is bold, within its table.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from impact_bench.leaderboards.anomaly import sections as anomaly_sections
from impact_bench.leaderboards.common import is_best, label as run_label, runs_lines, slug
from impact_bench.errors import RegistryError, ResultsError
from impact_bench.plots import bar_chart, confusion_figure
from impact_bench.reference import published, published_also, read_rows, sources
from impact_bench.results import Results, load_results
from impact_bench.suites.catalog import get_suite

Cells = dict[str, tuple[float, float]]


@dataclass
class Column:
    label: str
    per_problem: Cells
    per_task: Cells
    source: Results | None  # None for published columns


def _column(res: Results, label: str) -> Column:
    per_problem = {p["name"]: (p["macro_f1"]["mean"], p["macro_f1"]["std"]) for p in res["problems"]}
    per_task = {t: (v["mean"], v["std"]) for p in res["problems"] for t, v in p["per_task_f1"].items()}
    return Column(label, per_problem, per_task, res)


def _fmt(cell: tuple[float, float] | None, bold: bool, latex: bool) -> str:
    if cell is None:
        return "–"
    text = f"{cell[0]:.4f}" if cell[1] != cell[1] else f"{cell[0]:.4f} ± {cell[1]:.4f}"  # NaN std: not published
    if bold:
        return f"\\textbf{{{text}}}" if latex else f"**{text}**"
    return text.replace("±", "$\\pm$") if latex else text


def _table(rows: list[str], columns: list[Column], attr: str, row_header: str, latex: bool,
           extra: dict[str, str] | None = None) -> str:
    body = []
    for row in rows:
        cells = [getattr(c, attr).get(row) for c in columns]
        means = [None if c is None else c[0] for c in cells]
        line = [row] + ([extra.get(row, "")] if extra else [])
        line += [_fmt(c, is_best(m, means), latex) for c, m in zip(cells, means)]
        body.append(line)
    headers = [row_header] + (["machine"] if extra else []) + [c.label for c in columns]
    return tabulate(body, headers=headers, tablefmt="latex_raw" if latex else "github", disable_numparse=True)


def _protocol_line(runs: list[Results]) -> str:
    """One sentence for the group: the heads and split schemes its runs used."""
    heads = {"listen" if r["protocol"]["probe"].get("head") == "listen" else "paper" for r in runs}
    head_text = {"paper": "Linear(D,256)-ReLU-Linear(256,C) probe (IMPACT paper §5.1)",
                 "listen": "the LISTEN release's head (Linear-ReLU-LayerNorm-Linear-ReLU-Linear, AdamW 5e-4, 200 "
                           "epochs; runs labelled +listen-head)"}
    splits = {r["protocol"]["split"] for r in runs}
    split_text = {"official": "the release's own train/test sets (seeds vary head init and batch order)",
                  "paper": "stratified 20 % train / 80 % test, re-split per seed"}
    seeds = sorted({r["protocol"]["probe"]["seeds"] for r in runs})
    return (f"Protocol: frozen embeddings → {' or '.join(head_text[h] for h in sorted(heads, reverse=True))}; "
            f"{' or '.join(split_text[x] for x in sorted(splits))}; {'/'.join(map(str, seeds))} seeds (per run: Runs).")


def _rank_section(ours: list[Column], latex: bool, alpha: float = 0.05) -> list[str]:
    """Overall score (the suite's headline) with a rank column: tie groups from the paired cluster bootstrap,
    Holm-adjusted over the comparisons with each group's best (``impact_bench.compare``)."""
    from impact_bench.compare import ComparisonError, check_comparable, pairwise
    from impact_bench.results import headline
    from impact_bench.stats.multiple import tie_groups

    runs = [c.source for c in ours]
    means = [headline(r) for r in runs]
    ranks: list[str] = ["–"] * len(runs)
    note = ""
    if len(runs) > 1:
        try:
            check_comparable(runs, [c.label for c in ours])
            mats = pairwise(runs, alpha=alpha)["overall"]
            if mats.p is None:
                note = "no rank: a run lacks per-clip predictions (results schema < 1.2)"
            else:
                ranks = [str(k) for k in tie_groups(mats.means, mats.p, alpha, "holm")]
        except ComparisonError as exc:
            note = f"no rank: the runs do not pair ({exc})"
    elif runs:
        ranks = ["1"]
    order = sorted(range(len(runs)), key=lambda i: -(means[i] or 0.0))
    body = [[ranks[i], ours[i].label, _fmt((means[i], float("nan")), i == order[0], latex)] for i in order]
    head = ["rank", "run", "overall (mean macro-F1)"]
    lines = ["### Overall, with tie groups", "",
             f"Rank 1 = the best mean and every run not significantly different from it (paired cluster bootstrap over "
             f"clips, 10,000 resamples, two-sided, Holm-adjusted over the comparisons with the best, α = {alpha}); the "
             f"rule repeats on the rest. `impact-bench compare A.json B.json` gives any pair in full.", "",
             tabulate(body, headers=head, tablefmt="latex_raw" if latex else "github", disable_numparse=True), ""]
    return lines + ([note, ""] if note else [])


def _run_protocol(r: Results) -> str:
    probe = r["protocol"]["probe"]
    head = "listen head" if probe.get("head") == "listen" else "paper probe"
    return (f"split {r['protocol']['split']}, {head}, {probe['seeds']} seeds, standardize={probe['standardize']}")


def _published_notes(spec, labels: list[str]) -> list[str]:
    """Where each published column comes from, and the LISTEN paper's cost figures when shown."""
    src = sources(spec)
    lines = ["Published columns:", ""] + [f"- {label}: {src.get(label.removesuffix(' (published)'), spec.reference.description)}"
                                          for label in labels] + [""]
    for name in spec.reference.also_per_problem:
        rows = read_rows(name)
        if rows and "params" in rows[0]:
            seen: dict[str, dict[str, str]] = {}
            for r in rows:
                seen.setdefault(r["model"], r)
            lines += ["Encoder cost as published (Raspberry Pi 4; context only, not measured here):", "",
                      tabulate([[m, r["params"], r["macs"], r["pi4_ms_per_sample"], r["pi4_cpu_percent"],
                                 r["pi4_memory_mb"]] for m, r in seen.items()],
                               headers=["model", "params", "MACs", "ms / sample", "CPU %", "memory MB"],
                               tablefmt="github", disable_numparse=True), ""]
    return lines


def build(result_paths: list[Path], out: Path, latex: bool = False, figures: bool = True) -> Path:
    everything = [(p, load_results(p)) for p in result_paths]
    if not everything:
        raise ResultsError("no results files given")
    loaded = [(p, r) for p, r in everything if r.get("kind", "classification") == "classification"]
    anomaly = [(p, r) for p, r in everything if r.get("kind") == "anomaly"]
    groups: dict[tuple[str, str, bool], list[Results]] = defaultdict(list)
    for _, res in loaded:
        s = res["suite"]
        groups[(s["comparable_to"], s["version"], s["synthetic"])].append(res)
    fig_dir = out.parent / f"{out.stem}_figures"
    lines = [f"# impact-bench leaderboard ({out.stem})", "", "Generated from: "
             + ", ".join(f"`{p.name}`" for p, _ in everything) + ".", ""]
    if loaded:
        lines += [
             "Cells: F1 mean ± std over seeds (published cells without a std were printed without one). Per-machine "
             "score = macro F1 = mean of its per-task (per-class) F1. Best mean per row in **bold**, within a table.",
             ""]
    for (comparable, version, synthetic), members in sorted(groups.items()):
        try:
            spec = get_suite(members[0]["suite"]["name"])
        except RegistryError:
            spec = None
        taken: set[str] = set()
        ours = [_column(r, run_label(r, taken)) for r in members]
        pub_problem, pub_task = published(spec) if spec is not None and not synthetic else ({}, {})
        pub = [Column(m if "(" in m else f"{m} (published)", pub_problem.get(m, {}), pub_task.get(m, {}), None)
               for m in dict.fromkeys([*pub_problem, *pub_task])]
        also = published_also(spec) if spec is not None and not synthetic else {}
        also_cols = [Column(m, cells, {}, None) for m, cells in also.items()]
        columns = pub + ours
        kind = "SYNTHETIC data — not comparable with published numbers" if synthetic else "real data"
        lines += [f"## Suite `{comparable}` v{version} ({kind})", "", _protocol_line(members), ""]
        if any(r["suite"]["subset"] for r in members):
            lines += ["Columns marked [subset] used `--max-clips-per-class`; they are not full-suite scores.", ""]
        problems = [p["name"] for p in members[0]["problems"]]
        task_machine = {t: p["machine"] for p in members[0]["problems"] for t in p["tasks"]}
        lines += _rank_section(ours, latex)
        lines += ["### Per machine (Table 3 layout)", "",
                  _table(problems, columns + also_cols, "per_problem", "machine", latex), ""]
        tasks = list(task_machine)  # the suite's order (T1…T30; the LISTEN release's class order)
        lines += ["### Per task (Table 4 layout)", "", _table(tasks, columns, "per_task", "task", latex, task_machine), ""]
        if figures:
            tag = slug(f"{comparable}-v{version}-{'synthetic' if synthetic else 'real'}")
            bar = fig_dir / f"per_machine_{tag}.png"
            bar_chart(bar, problems, {c.label: c.per_problem for c in columns}, f"{comparable} v{version} ({kind})")
            lines += [f"![per-machine F1]({bar.relative_to(out.parent).as_posix()})", "", "Confusion matrices (summed over seeds): "]
            links = []
            for col in ours:
                for prob in col.source["problems"]:
                    png = fig_dir / f"cm_{tag}_{slug(col.label)}_{slug(prob['name'])}.png"
                    confusion_figure(png, prob["confusion_matrix"], prob["tasks"], f"{col.label} — {prob['name']}")
                    links.append(f"[{col.label} / {prob['name']}]({png.relative_to(out.parent).as_posix()})")
            lines += [", ".join(links), ""]
        if spec is not None and not synthetic:
            lines += _published_notes(spec, [c.label for c in pub + also_cols])
        lines += runs_lines([(c.label, c.source) for c in ours], _run_protocol)
        if synthetic:
            ref_spec = get_suite("dinos")
            pp, pt = published(ref_spec)
            ref_cols = [Column(m, pp.get(m, {}), pt.get(m, {}), None) for m in pp]
            shown = [p for p in problems if any(p in c.per_problem for c in ref_cols)]
            if shown:
                lines += ["### For orientation only: published numbers on the REAL DINOS data (IMPACT paper Table 3)",
                          "", _table(shown, ref_cols, "per_problem", "machine", latex), ""]
    if anomaly:
        taken_a: set[str] = set()
        lines += anomaly_sections([(run_label(r, taken_a), r) for _, r in anomaly], out, figures)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    return out
