"""DCASE Task 2 file names and folder layouts, 2020–2026, parsed by regex — never by assumed index
ranges (2024 mixes 0- and 1-based numbering: the DCASE 2024 README and nttcslab/dcase2024_task2_evaluator).

| year | train | dev test | eval test |
|---|---|---|---|
| 2020 | ``normal_id_XX_########.wav`` | ``{normal,anomaly}_id_XX_########.wav`` | ``id_XX_########.wav`` |
| 2021 | ``section_XX_{source,target}_train_normal_NNNN_<attr>.wav`` | ``{source,target}_test/section_XX_{source,target}_test_{normal,anomaly}_NNNN.wav`` | ``{source,target}_test/section_XX_{source,target}_test_NNNN.wav`` |
| 2022+ | as 2021 | ``test/section_XX_{source,target}_test_{normal,anomaly}_NNNN_<attr>.wav`` | ``test/section_XX_NNNN.wav`` |

2026 keeps the 2025 names (nttcslab/dcase2023_task2_baseline_ae README, 2026 layout; its eval test set was
not published when this was written, so its names are assumed to follow 2022–2025).

Attributes are the opaque suffix after the index (``noAttribute`` where 2024 hid them); the
``attributes_XX.csv`` files give their structure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from impact_bench.anomaly.submission import check_year
from impact_bench.errors import DataError

_D = r"(?P<domain>source|target)"
_L = r"(?P<label>normal|anomaly)"
_S = r"section_(?P<section>\d{2})"
_N = r"(?P<index>\d{4})"
_A = r"(?:_(?P<attributes>.+))"
_SECTION_TRAIN = re.compile(rf"^{_S}_{_D}_train_(?P<label>normal)_{_N}{_A}?\.wav$")  # 2021+ (attributes optional)
_SECTION_TEST = re.compile(rf"^{_S}_{_D}_test_{_L}_{_N}{_A}?\.wav$")             # 2021+ dev test
PATTERNS: dict[tuple[str, str], re.Pattern[str]] = {
    ("2020", "train"): re.compile(r"^(?P<label>normal)_id_(?P<section>\d{2})_(?P<index>\d{8})\.wav$"),
    ("2020", "test"): re.compile(r"^(?P<label>normal|anomaly)_id_(?P<section>\d{2})_(?P<index>\d{8})\.wav$"),
    ("2020", "eval-test"): re.compile(r"^id_(?P<section>\d{2})_(?P<index>\d{8})\.wav$"),
    ("2021", "train"): _SECTION_TRAIN,
    ("2021", "test"): _SECTION_TEST,
    ("2021", "eval-test"): re.compile(rf"^{_S}_{_D}_test_{_N}\.wav$"),
    ("2022", "train"): _SECTION_TRAIN,
    ("2022", "test"): _SECTION_TEST,
    ("2022", "eval-test"): re.compile(rf"^{_S}_{_N}\.wav$"),
}
TEST_DIRS = {2021: ("source_test", "target_test")}  # other years: test/


@dataclass(frozen=True)
class DcaseClip:
    path: Path
    machine: str
    split: str                 # "train" | "test"
    section: str               # "00"… (2020: the machine ID "01"…)
    domain: str | None         # None: 2020, or hidden (2022+ eval test)
    label: str | None          # "normal" | "anomaly" | None (hidden: eval test)
    index: int
    attributes: str | None = None
    unit: str = ""             # unit of detection: "id_XX" (2020) or "section_XX"


def _key(year: int) -> str:
    return "2020" if year == 2020 else ("2021" if year == 2021 else "2022")


def parse_name(year: int, split: str, path: Path, machine: str) -> DcaseClip | None:
    """One file name → its fields; None when it matches no pattern of the year and split."""
    check_year(year)
    for kind in ((split,) if split == "train" else ("test", "eval-test")):
        hit = PATTERNS[(_key(year), kind)].match(path.name)
        if hit:
            g = hit.groupdict()
            unit = f"{'id' if year == 2020 else 'section'}_{g['section']}"
            return DcaseClip(path, machine, split, g["section"], g.get("domain"), g.get("label"),
                             int(g["index"]), g.get("attributes"), unit)
    return None


def scan_machine(year: int, machine_dir: Path) -> list[DcaseClip]:
    """Every clip of ``<machine>/train/`` and ``<machine>/test/`` (2021: ``source_test/``, ``target_test/``;
    a merged ``test/`` is accepted too). A wav that matches no pattern is an error naming it."""
    machine_dir = Path(machine_dir)
    machine = machine_dir.name
    folders = [("train", machine_dir / "train")]
    folders += [("test", machine_dir / d) for d in TEST_DIRS.get(year, ()) + ("test",)]
    clips, bad = [], []
    for split, folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.wav")):
            clip = parse_name(year, split, path, machine)
            (clips if clip else bad).append(clip or path)
    if bad:
        raise DataError(f"{machine_dir}: {len(bad)} file(s) match no DCASE {year} {'/'.join(f for f, _ in folders)} "
                        f"name pattern, e.g. {', '.join(str(p.relative_to(machine_dir)) for p in bad[:3])}")
    if not any(c.split == "train" for c in clips):
        raise DataError(f"{machine_dir}: no training clips (expected {machine_dir / 'train'}/*.wav)")
    if not any(c.split == "test" for c in clips):
        raise DataError(f"{machine_dir}: no test clips (expected "
                        f"{' or '.join(str(machine_dir / d) for d in TEST_DIRS.get(year, ('test',)))}/*.wav)")
    return clips
