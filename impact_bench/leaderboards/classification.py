"""Markdown (or LaTeX) leaderboards in the layout of the IMPACT paper's Table 3 (per machine) and
Table 4 (per task), built only from complete, validated results files.

Columns are grouped by comparability: results share a table only when their suite's
``comparable_to`` and version agree and they are all real or all synthetic. The published numbers
belong to the real ``dinos`` group; synthetic results get their own tables, with the published
ones printed separately for orientation only. Best mean in each row is bold, within its table.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

from impact_bench.leaderboards.anomaly import sections as anomaly_sections
from impact_bench.leaderboards.common import (NOT_ZERO_SHOT, is_best, label as run_label, not_zero_shot_lines,
                                               published_seen, runs_lines, seen_source, slug)
from impact_bench.errors import RegistryError, ResultsError
from impact_bench.leaderboards.intervals import holm_matrix, run_intervals
from impact_bench.plots import bar_chart, confusion_figure, significance_matrix
from impact_bench.reference import published, published_also, read_rows, sources
from impact_bench.results import Results, load_results
from impact_bench.suites.catalog import get_suite

Cells = dict[str, tuple[float, float]]
Intervals = dict[str, tuple[float, float]]  # row → (low, high) 95 % interval of the mean


@dataclass
class Column:
    label: str
    per_problem: Cells
    per_task: Cells
    source: Results | None  # None for published columns
    per_problem_ci: Intervals = field(default_factory=dict)  # --ci: problem (and "overall") → bootstrap interval


def _column(res: Results, label: str, ci: bool = False) -> Column:
    per_problem = {p["name"]: (p["macro_f1"]["mean"], p["macro_f1"]["std"]) for p in res["problems"]}
    per_task = {t: (v["mean"], v["std"]) for p in res["problems"] for t, v in p["per_task_f1"].items()}
    return Column(label, per_problem, per_task, res, run_intervals(res) if ci else {})


def _fmt(cell: tuple[float, float] | None, bold: bool, latex: bool,
         interval: tuple[float, float] | None = None) -> str:
    if cell is None:
        return "–"
    if interval is not None:  # --ci: mean [95 % cluster-bootstrap interval] instead of ± std
        text = f"{cell[0]:.4f} [{interval[0]:.4f}, {interval[1]:.4f}]"
    else:
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
        intervals = [getattr(c, f"{attr}_ci", {}).get(row) for c in columns]
        line += [_fmt(c, is_best(m, means), latex, iv) for c, m, iv in zip(cells, means, intervals)]
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


def _overall_pairs(ours: list[Column], alpha: float = 0.05):
    """(overall ``Matrix`` with p-values, or None; why not) for the runs of one table (``impact_bench.compare``)."""
    from impact_bench.compare import ComparisonError, check_comparable, pairwise

    runs = [c.source for c in ours]
    if len(runs) < 2:
        return None, ""
    try:
        check_comparable(runs, [c.label for c in ours])
    except ComparisonError as exc:
        return None, f"no rank: the runs do not pair ({exc})"
    mats = pairwise(runs, alpha=alpha)["overall"]
    if mats.p is None:
        return None, "no rank: a run lacks per-clip predictions (results schema < 1.2)"
    return mats, ""


CORRECTIONS = {"holm": "Holm", "fdr_bh": "Benjamini–Hochberg"}


def _rank_section(ours: list[Column], latex: bool, alpha: float = 0.05, pairs=None,
                  correction: str = "holm") -> list[str]:
    """Overall score (the suite's headline) with a rank column: tie groups from the paired cluster bootstrap,
    Holm-adjusted over the comparisons with each group's best (``impact_bench.compare``). ``pairs``: the
    result of :func:`_overall_pairs` when the caller already has it."""
    from impact_bench.results import headline
    from impact_bench.stats.multiple import tie_groups

    runs = [c.source for c in ours]
    means = [headline(r) for r in runs]
    ranks: list[str] = ["–"] * len(runs)
    mats, note = pairs if pairs is not None else _overall_pairs(ours, alpha)
    if mats is not None:
        ranks = [str(k) for k in tie_groups(mats.means, mats.p, alpha, correction)]
    elif len(runs) == 1:
        ranks = ["1"]
    order = sorted(range(len(runs)), key=lambda i: -(means[i] or 0.0))
    with_ci = any(c.per_problem_ci for c in ours)
    body = [[ranks[i], ours[i].label, _fmt((means[i], float("nan")), i == order[0], latex,
                                           ours[i].per_problem_ci.get("overall"))] for i in order]
    head = ["rank", "run", "overall (mean macro-F1 [95 % CI])" if with_ci else "overall (mean macro-F1)"]
    lines = ["### Overall, with tie groups", "",
             f"Rank 1 = the best mean and every run not significantly different from it (paired two-level cluster "
             f"bootstrap: clips and the seeds' head effects, 10,000 resamples, two-sided, {CORRECTIONS[correction]}-adjusted over the comparisons with the best, "
             f"α = {alpha}); the "
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


def _significance_lines(ours: list[Column], mats, fig_dir: Path, out: Path, tag: str, title: str,
                        alpha: float = 0.05) -> list[str]:
    """Heatmap of the overall pairwise differences with Holm-adjusted (over all pairs) bootstrap p-values."""
    png = fig_dir / f"significance_{tag}.png"
    significance_matrix(png, [c.label for c in ours], mats.diff, holm_matrix(mats.p), title, alpha)
    return [f"Pairwise significance of the overall score (paired two-level cluster bootstrap, Holm-adjusted over all "
            f"{len(ours) * (len(ours) - 1) // 2} pairs, α = {alpha}): "
            f"[significance matrix]({png.relative_to(out.parent).as_posix()})", ""]


def build(result_paths: list[Path], out: Path, latex: bool = False, figures: bool = True, ci: bool = False,
          correction: str = "holm", zero_shot_only: bool = False) -> Path:
    """Write the leaderboard page to ``out``. ``ci``: classification per-machine and overall cells show the mean
    with its 95 % cluster-bootstrap interval (:mod:`impact_bench.leaderboards.intervals`) instead of ± std.
    ``correction``: how tie groups adjust the comparisons with each group's best — "holm" (default) or
    "fdr_bh" (Benjamini–Hochberg). ``zero_shot_only``: leave out runs and published columns whose encoder saw
    the suite's source recordings (its card, :func:`~impact_bench.leaderboards.common.seen_source`)."""
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {sorted(CORRECTIONS)}, got {correction!r}")
    everything = [(p, load_results(p)) for p in result_paths]
    if not everything:
        raise ResultsError("no results files given")
    hidden = [p for p, r in everything if zero_shot_only and seen_source(r) is not None]
    everything = [(p, r) for p, r in everything if p not in hidden]
    if not everything:
        raise ResultsError("--zero-shot-only: every results file given comes from an encoder that saw its suite's "
                           "source recordings (see `impact-bench card ENCODER`); nothing is left to show")
    loaded = [(p, r) for p, r in everything if r.get("kind", "classification") == "classification"]
    anomaly = [(p, r) for p, r in everything if r.get("kind") == "anomaly"]
    groups: dict[tuple[str, str, bool], list[Results]] = defaultdict(list)
    for _, res in loaded:
        s = res["suite"]
        groups[(s["comparable_to"], s["version"], s["synthetic"])].append(res)
    fig_dir = out.parent / f"{out.stem}_figures"
    lines = [f"# impact-bench leaderboard ({out.stem})", "", "Generated from: "
             + ", ".join(f"`{p.name}`" for p, _ in everything) + ".", ""]
    if hidden:
        lines += ["Left out by `--zero-shot-only` (the encoder saw the suite's source recordings): "
                  + ", ".join(f"`{p.name}`" for p in hidden) + ".", ""]
    if loaded:
        lines += [
             "Cells: F1 mean ± std over seeds (published cells without a std were printed without one). Per-machine "
             "score = macro F1 = mean of its per-task (per-class) F1. Best mean per row in **bold**, within a table.",
             ""]
        if ci:
            lines += ["With `--ci`: our per-machine and overall cells are mean [95 % interval]: percentile interval of "
                      "the seed-averaged macro-F1 under the class-stratified two-level cluster bootstrap (10,000 "
                      "resamples; every seed's prediction of a drawn clip kept together, plus the seeds' head "
                      "effects); per-task cells stay "
                      "mean ± std. Files without per-clip data (schema < 1.2) keep mean ± std.", ""]
    for (comparable, version, synthetic), members in sorted(groups.items()):
        try:
            spec = get_suite(members[0]["suite"]["name"])
        except RegistryError:
            spec = None
        taken: set[str] = set()
        ours = [_column(r, run_label(r, taken), ci) for r in members]
        pub_problem, pub_task = published(spec) if spec is not None and not synthetic else ({}, {})
        also = published_also(spec) if spec is not None and not synthetic else {}
        seen_pub = {m: published_seen(m, members[0]["suite"]["name"]) for m in [*pub_problem, *pub_task, *also]}
        shown_pub = [m for m in dict.fromkeys([*pub_problem, *pub_task]) if not (zero_shot_only and seen_pub.get(m))]
        pub = [Column((m if "(" in m else f"{m} (published)") + (f" {NOT_ZERO_SHOT}" if seen_pub.get(m) else ""),
                      pub_problem.get(m, {}), pub_task.get(m, {}), None) for m in shown_pub]
        also_cols = [Column(m + (f" {NOT_ZERO_SHOT}" if seen_pub.get(m) else ""), cells, {}, None)
                     for m, cells in also.items() if not (zero_shot_only and seen_pub.get(m))]
        columns = pub + ours
        kind = "SYNTHETIC data — not comparable with published numbers" if synthetic else "real data"
        lines += [f"## Suite `{comparable}` v{version} ({kind})", "", _protocol_line(members), ""]
        if any(r["suite"]["subset"] for r in members):
            lines += ["Columns marked [subset] used `--max-clips-per-class`; they are not full-suite scores.", ""]
        problems = [p["name"] for p in members[0]["problems"]]
        task_machine = {t: p["machine"] for p in members[0]["problems"] for t in p["tasks"]}
        pairs = _overall_pairs(ours)
        lines += _rank_section(ours, latex, pairs=pairs, correction=correction)
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
            if pairs[0] is not None:
                lines += _significance_lines(ours, pairs[0], fig_dir, out, tag, f"{comparable} v{version}"
                                             f"{' (SYNTHETIC)' if synthetic else ''}: overall macro-F1, row − column")
        if spec is not None and not synthetic:
            lines += _published_notes(spec, [c.label.removesuffix(f" {NOT_ZERO_SHOT}") for c in pub + also_cols])
            lines += not_zero_shot_lines([(c.label, seen_pub.get(c.label.removesuffix(f" {NOT_ZERO_SHOT}")
                                                               .removesuffix(" (published)"))) for c in pub + also_cols])
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
