"""Regenerate the LISTEN published rows in ``leaderboards/published/`` from a clone of the release.

    python scripts/published/listen_published.py --listen-dir /path/to/LISTEN

Parses, as printed (no value is typed by hand), from github.com/hanprd/LISTEN:
- README.md, "Paper Benchmark Summary": the LISTEN paper's encoder table (Han et al., Advanced
  Engineering Informatics 76, 104944, 2026): F1 on ColdSpray / Renishaw / Yornew / VF2 per encoder, with
  parameters, MACs and Raspberry Pi 4 time and CPU / memory → ``listen_paper_table.csv`` (machines named
  as in the DINOS suite: Renishaw → RenishawL);
- README.md, the on-site sentence "achieved an overall F1-score of X" (the paper's data snapshot) and
  ``Logs/<backbone>_inference_log_*_class_metrics.csv`` (the release's own logs on its current data; the
  newest per backbone): per-class F1 and their mean → ``listen_onsite_published.csv`` (per problem) and
  ``listen_onsite_per_class.csv`` (per class). Only these summary figures are kept, never the logs.
"""
from __future__ import annotations

import argparse
import csv
import re
import subprocess
from pathlib import Path

OUT = Path("leaderboards/published")
MACHINES = {"ColdSpray": "ColdSpray", "Renishaw": "RenishawL", "Yornew": "Yornew", "VF2": "VF2"}
PAPER = "LISTEN paper (Han et al., Adv. Eng. Informatics 76, 104944), as in github.com/hanprd/LISTEN README"


def _commit(repo: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"


def paper_table(readme: str) -> list[dict[str, str]]:
    lines = [ln for ln in readme.splitlines() if ln.startswith("|")]
    head = next(i for i, ln in enumerate(lines) if ln.startswith("| Model | Parameters"))
    cols = [c.strip() for c in lines[head].strip("|").split("|")]
    rows = []
    for ln in lines[head + 2:]:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        if len(cells) != len(cols) or not re.match(r"^[\d.]+M$", cells[1]):
            break
        rec = dict(zip(cols, cells))
        cpu, mem = rec["CPU (%) / Memory (MB)"].split("/")
        for col, machine in ((c, c.removeprefix("F1 Score ")) for c in cols if c.startswith("F1 Score ")):
            rows.append({"machine": MACHINES[machine], "model": f"{rec['Model']} (LISTEN paper)",
                         "f1_mean": rec[col], "f1_std": "", "params": rec["Parameters"], "macs": rec["MACs"],
                         "pi4_ms_per_sample": rec["Time (ms per sample)"], "pi4_cpu_percent": cpu.strip(),
                         "pi4_memory_mb": mem.strip(), "source": PAPER})
    if not rows:
        raise SystemExit("README: the paper's benchmark table was not found")
    return rows


def onsite(repo: Path, readme: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    m = re.search(r"overall F1-score of ([0-9.]+)", readme)
    if m is None:
        raise SystemExit("README: the on-site overall F1 sentence was not found")
    per_problem = [{"machine": "Onsite", "model": "LISTEN (paper, its data snapshot)", "f1_mean": m.group(1),
                    "f1_std": "", "source": PAPER + "; overall F1 of the on-site study"}]
    per_class = []
    commit = _commit(repo)
    newest: dict[str, Path] = {}
    for path in sorted((repo / "Logs").glob("*_inference_log_*_class_metrics.csv")):
        newest[path.name.split("_inference_log_")[0]] = path
    for backbone, path in newest.items():
        rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
        f1 = {r["class_name"]: float(r["f1"]) for r in rows}
        label = f"{backbone} (release log)"
        source = f"github.com/hanprd/LISTEN {commit}, Logs/{path.name}"
        per_problem.append({"machine": "Onsite", "model": label, "f1_mean": f"{sum(f1.values()) / len(f1):.4f}",
                            "f1_std": "", "source": source + " (mean of per-class F1)"})
        per_class += [{"task": c, "model": label, "f1_mean": f"{v:.4f}", "f1_std": "", "source": source}
                      for c, v in f1.items()]
    return per_problem, per_class


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {path} ({len(rows)} rows)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen-dir", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = ap.parse_args()
    readme = (args.listen_dir / "README.md").read_text(encoding="utf-8")
    _write(args.out / "listen_paper_table.csv", paper_table(readme))
    per_problem, per_class = onsite(args.listen_dir, readme)
    _write(args.out / "listen_onsite_published.csv", per_problem)
    _write(args.out / "listen_onsite_per_class.csv", per_class)


if __name__ == "__main__":
    main()
