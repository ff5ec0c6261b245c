"""What every leaderboard table shares: slugs, bold-best cells, run marks and provenance lines."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from impact_bench.encoders.provenance import Corpus

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
    if seen_source(res) is not None:
        out += " " + NOT_ZERO_SHOT
    return out


NOT_ZERO_SHOT = "†"  # the run's encoder saw the suite's source recordings (its card's training data)


def seen_source(res: dict[str, Any]) -> Optional["Corpus"]:
    """The training corpus through which a run's encoder saw its suite's source recordings, from the built-in
    encoder's card (``impact-bench card NAME``); None for a zero-shot run, an untrained (random-init) encoder, an
    encoder without a card, synthetic data, or a suite whose data layout is unknown."""
    from impact_bench.encoders.cards import CARDS
    from impact_bench.encoders.provenance import suite_families

    enc, suite = res.get("encoder") or {}, res.get("suite") or {}
    card, config = CARDS.get(str(enc.get("name"))), enc.get("config") or {}
    if card is None or suite.get("synthetic") or config.get("random_init_seed") is not None \
            or config.get("checkpoint_format") == "random-init":
        return None
    layout, year = suite.get("layout"), suite.get("year")
    if layout is None:  # classification results do not record it: the registered suite's
        from impact_bench.errors import RegistryError
        from impact_bench.suites.catalog import get_suite
        try:
            data = get_suite(str(suite.get("name"))).data
        except RegistryError:
            return None
        layout, year = data.layout, getattr(data, "year", None)
    return card.exposure(suite_families(layout, year))


# published columns → the card of the encoder they report (the IMPACT paper's Table 3, the LISTEN paper's table);
# O'IMPACT, the LISTEN paper's compressed IMPACT teacher, was trained on DINOS as IMPACT was (LISTEN README)
PUBLISHED_ENCODERS = {"IMPACT": "impact", "O'IMPACT": "impact", "AudioMAE-FineT": "audiomae-ft", "LISTEN": "listen",
                      "BC-ResNet-3": "bc-resnet-3", "MobileViT-XXS": "mobilevit-xxs", "MobileNetV4-S": "mobilenetv4-small"}


def published_seen(model: str, suite: str) -> Optional["Corpus"]:
    """:func:`seen_source` for a published column (``"IMPACT"``, ``"LISTEN (LISTEN paper)"``) of a real suite."""
    name = PUBLISHED_ENCODERS.get(model.split(" (")[0].rstrip(". "))
    return None if name is None else seen_source({"encoder": {"name": name}, "suite": {"name": suite}})


def not_zero_shot_lines(labelled: list[tuple[str, Optional["Corpus"]]]) -> list[str]:
    """The footnote for the columns marked with NOT_ZERO_SHOT: which training data saw the suite's source."""
    seen = [(lab, c) for lab, c in labelled if c is not None]
    if not seen:
        return []
    lines = [f"{NOT_ZERO_SHOT} Not zero-shot: the encoder's training data include this suite's source recordings "
             "(its model card, `impact-bench card ENCODER`; `impact-bench leaderboard --zero-shot-only` leaves "
             "these out):", ""]
    for lab, c in seen:
        cond = f"; applies to {c.condition}" if c.condition else ""
        lines.append(f"- {lab}: {c.stage} on {c.name} ({c.relation_text()}{cond}; source: {c.source})")
    return lines + [""]


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
    return lines + [""] + not_zero_shot_lines([(lab, seen_source(r)) for lab, r in runs])
