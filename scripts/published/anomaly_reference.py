"""Regenerate ``leaderboards/published/anomaly_reference.csv`` from the published documents it cites.

Run from the repository root, with the maintainers' shared folder beside the checkout:

    python scripts/published/anomaly_reference.py [--shared ../shared]

The inputs are maintainers' plain-text copies of public documents (they are not part of the package;
``--shared`` points at them). It parses, as printed (no value is typed by hand):
- Han et al., "Exploring Self-Supervised Audio Models for Generalized Anomalous Sound Detection"
  (arXiv 2508.12230; copy: ``seeds/ssl-asd-dcase2020-2024-paper.txt``), Tables I and II (DCASE 2024
  dev/eval, fine-tuned pre-trained models: per-machine hmean of AUC and pAUC, AUC_s, AUC_t, Hmean) and
  Tables VI-X (DCASE 2020-2024, per machine + per set, 2020 as mean of AUC and pAUC);
- the MIMII SNR report, Kim, "Sound-Based Anomaly Detection using MIMII Audio Data" (2025; copy:
  ``seeds/mimii-snr-ddae-report.txt``), Table 2 (CNN on IMS spectrograms, 12 groups) and the §5-3 table
  (-6 dB fan: CNN-LSTM, and CNN-LSTM with the Youden threshold);
- the RMIS leaderboard (jianganbai/RMIS ``docs/leaderboard.html``), its frozen-encoder KNN table (score
  per year, x100 as published), as transcribed in the maintainers' notes ``facts/dcase-mimii.md``.
The ``source`` column names the public documents, never the copies.
Percentages are divided by 100. Long format: one value per row (suite, set, system, row, metric, value).
"""
from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

OUT = Path("leaderboards/published/anomaly_reference.csv")
SSL = "Han et al., Exploring Self-Supervised Audio Models for Generalized ASD (arXiv 2508.12230)"
MIMII = "MIMII SNR report (Kim, Sound-Based Anomaly Detection using MIMII Audio Data, 2025)"
RMIS = "RMIS leaderboard (jianganbai/RMIS docs/leaderboard.html)"
MACHINES = {  # the published tables' abbreviations → official machine-type folder names
    "Bearing": "bearing", "Fan": "fan", "Gearbox": "gearbox", "G.box": "gearbox", "Slider": "slider",
    "ToyCar": "ToyCar", "T.Car": "ToyCar", "ToyTrain": "ToyTrain", "T.Tra": "ToyTrain", "Valve": "valve",
    "Pump": "pump", "T.Conv.": "ToyConveyor", "3DPrin.": "3DPrinter", "A.Com.": "AirCompressor",
    "B.Mot.": "BrushlessMotor", "H.Dry.": "HairDryer", "H.Dro.": "HoveringDrone", "R.Arm": "RoboticArm",
    "Scan.": "Scanner", "T.Bru.": "ToothBrush", "T.Cir.": "ToyCircuit", "B.Saw": "bandsaw",
    "Grinder": "grinder", "Shaker": "shaker", "T.Dro": "ToyDrone", "T.Nsc": "ToyNscale", "T.Tan": "ToyTank",
    "Vacuum": "Vacuum",
}
Row = tuple[str, str, str, str, str, float, str]


def _block(lines: list[str], title: str) -> list[list[str]]:
    """Tab-split, non-empty fields of the lines after the caption containing ``title`` up to a blank line."""
    start = next(i for i, line in enumerate(lines) if title in line)
    out, i = [], start + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines) and lines[i].strip():
        out.append([f.strip() for f in lines[i].split("\t")])
        i += 1
    return out


def _num(text: str) -> float | None:
    return None if text in ("-", "") else float(text) / 100


def table_i_ii(lines: list[str], caption: str, set_name: str, table: str) -> list[Row]:
    block = _block(lines, caption)
    header = [f for f in block[1] if f]
    machines = [MACHINES[h] for h in header[:-3]]
    rows: list[Row] = []
    for fields in block[2:]:
        values, model = fields[-len(header):], fields[-len(header) - 2]
        for name, v in zip(machines + ["AUC_s", "AUC_t", "Hmean"], values):
            metric = {"AUC_s": "auc_source", "AUC_t": "auc_target"}.get(name, "hmean")
            row = "all" if name in ("AUC_s", "AUC_t", "Hmean") else name
            rows.append(("dcase2024", set_name, f"{model} (fine-tuned)", row, metric, _num(v), f"{SSL} {table}"))
    return rows


def tables_vi_x(lines: list[str]) -> list[Row]:
    rows: list[Row] = []
    for year, table in ((2020, "VI"), (2021, "VII"), (2022, "VIII"), (2023, "IX"), (2024, "X")):
        block = _block(lines, f"TABLE {table}:")
        names = [f for f in block[1] if f]
        split = names.index("mean" if year == 2020 else "Hmean") + 1
        dev, ev = names[:split], names[split:]
        metric = "mean_auc_pauc" if year == 2020 else "hmean"
        for fields in block[2:]:
            vals = [f for f in fields if f]
            model, vals = vals[0], vals[1:]
            if len(vals) != len(dev) + len(ev) + 1:
                raise ValueError(f"Table {table}: row {model!r} has {len(vals)} values, header {len(dev) + len(ev) + 1}")
            system = "Han et al.: BEATs + LoRA + group adapter (fine-tuned)" if model == "Ours" else model
            for set_name, cols, part in (("dev", dev, vals[:len(dev)]), ("eval", ev, vals[len(dev):-1])):
                for col, v in zip(cols, part):
                    row = "all" if col in ("mean", "Hmean") else MACHINES[col]
                    if _num(v) is not None:
                        rows.append((f"dcase{year}", set_name, system, row, metric, _num(v), f"{SSL} Table {table}"))
            if _num(vals[-1]) is not None:
                rows.append((f"dcase{year}", "dev+eval", system, "all", metric, _num(vals[-1]), f"{SSL} Table {table}"))
    return rows


def mimii_report(lines: list[str]) -> list[Row]:
    rows: list[Row] = []
    metrics = ("accuracy", "precision", "recall", "f1", "auc")
    for line in lines:
        f = [x.strip() for x in line.split("\t")]
        if len(f) == 7 and re.fullmatch(r"-?\d+dB", f[1]) and f[0] in ("Fan", "Pump", "Slider", "Valve"):
            for k, v in zip(metrics, f[2:]):
                rows.append(("mimii-supervised", f[1], "CNN on IMS spectrogram (report)", f[0].lower(), k, float(v),
                             f"{MIMII} Table 2"))
    block = _block(lines, "-6dB Fan\tCNN only\tCNN-LSTM\tYouden")
    youden = {f[0].lower().replace("-score", ""): float(f[3]) for f in block}
    implied = 2 * youden["precision"] * youden["recall"] / (youden["precision"] + youden["recall"])
    for fields in block:
        key = fields[0].lower().replace("-score", "")
        rows.append(("mimii-supervised", "-6dB", "CNN-LSTM (report)", "fan", key, float(fields[2]), f"{MIMII} §5-3"))
        note = (f" (printed F1 {youden['f1']} does not follow from the printed P and R, which give {implied:.4f})"
                if key == "f1" and abs(implied - youden["f1"]) > 1e-3 else "")
        rows.append(("mimii-supervised", "-6dB", "CNN-LSTM (report)", "fan", f"youden_{key}", float(fields[3]),
                     f"{MIMII} §5-3{note}"))
    return rows


def rmis(lines: list[str]) -> list[Row]:
    start = next(i for i, line in enumerate(lines) if line.startswith("| model | 20 |"))
    rows: list[Row] = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        for year, v in zip((2020, 2021, 2022, 2023, 2024), cells[1:]):
            metric = "rmis_score"
            rows.append((f"dcase{year}", "dev+eval", f"RMIS: {cells[0]} (frozen, KNN, test-z)", "all", metric,
                         float(v) / 100, RMIS))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    args = ap.parse_args()
    ssl = (args.shared / "seeds/ssl-asd-dcase2020-2024-paper.txt").read_text(encoding="utf-8").splitlines()
    rows = (table_i_ii(ssl, "TABLE I:", "dev", "Table I") + table_i_ii(ssl, "TABLE II:", "eval", "Table II")
            + tables_vi_x(ssl)
            + mimii_report((args.shared / "seeds/mimii-snr-ddae-report.txt").read_text(encoding="utf-8").splitlines())
            + rmis((args.shared / "facts/dcase-mimii.md").read_text(encoding="utf-8").splitlines()))
    rows = [r for r in rows if r[5] is not None]
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["suite", "set", "system", "row", "metric", "value", "source"])
        for r in rows:
            w.writerow([*r[:5], f"{r[5]:.6g}", r[6]])
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
