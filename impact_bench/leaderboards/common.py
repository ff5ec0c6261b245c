"""What every leaderboard table shares: slugs, bold-best cells, run marks and provenance lines."""
from __future__ import annotations

import re
from typing import Any, Callable

BEST_TOL = 5e-5  # cells within this of the row's best mean are bold too (4-decimal ties)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def is_best(value: float | None, values: list[float | None]) -> bool:
    best = max((v for v in values if v is not None), default=None)
    return value is not None and best is not None and abs(value - best) < BEST_TOL


def bold_best(values: list[float | None], digits: int = 4) -> list[str]:
    return ["–" if v is None else (f"**{v:.{digits}f}**" if is_best(v, values) else f"{v:.{digits}f}") for v in values]


def marks(res: dict[str, Any]) -> str:
    """Why a run is not a plain full-suite score; part of its column label wherever it is shown."""
    out = ""
    cov = res.get("coverage", {})
    missing = any(v for v in (cov.get("missing") or {}).values())  # declared classes / sets / machines absent
    if missing or (not cov.get("complete", True) and not res["suite"].get("subset")):
        out += " [partial]"
    elif res["suite"].get("subset"):
        out += " [subset]"
    if (res.get("protocol") or {}).get("transductive"):
        out += " [transductive]"
    return out


def label(res: dict[str, Any], taken: set[str]) -> str:
    """A unique column label: the run's name plus its marks (fingerprint prefix on a clash)."""
    text = (res["encoder"].get("label") or res["encoder"]["name"]) + marks(res)
    if text in taken:
        text += f" ({res['run_fingerprint'][:6]})"
    taken.add(text)
    return text


def provenance(res: dict[str, Any]) -> str:
    p = res["provenance"]
    return (f"impact-bench {p['impact_bench_version']} ({(p.get('git_commit') or 'no git')[:8]}), "
            f"{p['created_utc']}")


def runs_lines(runs: list[tuple[str, dict[str, Any]]], protocol: Callable[[dict[str, Any]], str]) -> list[str]:
    """The "Runs:" list under a table: encoder, suite, clips, coverage, the protocol, provenance."""
    lines = ["Runs:", ""]
    for lab, r in runs:
        cov = r.get("coverage", {})
        partial = "" if cov.get("complete", True) else f", PARTIAL ({cov.get('summary', '')})"
        lines.append(f"- {lab}: encoder {r['encoder']['name']} v{r['encoder']['version']}, suite {r['suite']['name']} "
                     f"v{r['suite']['version']}, {r['suite']['data_fingerprint']['files']} clips{partial}, "
                     f"{protocol(r)}, {provenance(r)}")
    return lines + [""]
