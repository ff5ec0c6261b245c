"""``impact-bench card ENCODER``: a built-in encoder's model card as markdown.

The card's facts live in ``impact_bench.encoders.cards`` (training data and what it means for each suite,
size and measured MACs, licences of code and weights, citation); this module only renders them. It imports
neither torch nor numpy.
"""
from __future__ import annotations

import argparse
from pathlib import Path

MARK = "<!-- impact-bench card -->"  # first line of every file `impact-bench card -o` writes


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("card", help="write a built-in encoder's model card (training data, cost, licences, "
                                    "citation) as markdown")
    p.add_argument("encoder", help="built-in encoder name (`impact-bench list encoders`)")
    p.add_argument("-o", "--out", type=Path, default=None, help="markdown file to write (default: print it)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing -o file that impact-bench card did not write")
    p.set_defaults(func=main)


def _count(value: int | None, unit: str) -> str:
    if value is None:
        return "not applicable"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value:,} ({value / scale:.2f} {suffix}{' ' + unit if unit else ''})"
    return f"{value:,}"


def render(card) -> str:  # card: impact_bench.encoders.cards.EncoderCard
    """The card as a markdown page."""
    from impact_bench.encoders.provenance import FAMILIES

    lines = [MARK, f"# Model card: `{card.name}`", "", card.description, "",
             f"- Class: `{card.target}`", f"- Sample rate: {card.sample_rate or 'depends on the configuration'} Hz",
             f"- Embedding size: {card.embedding_dim or 'depends on the configuration'}",
             f"- Official code: {card.reference}", "", "## Training data", ""]
    if not card.training_data:
        lines += ["None: no trained weights (the encoder is computed from the signal alone), so every score is "
                  "zero-shot.", ""]
    for c in card.training_data:
        fams = f"{', '.join(sorted(c.families))} — {c.relation_text()}" if c.families else "none"
        lines += [f"- **{c.name}** ({c.stage})", f"  - suite source data: {fams}"]
        lines += [f"  - applies to: {c.condition}"] if c.condition else []
        lines += [f"  - note: {c.note}"] if c.note else []
        lines += [f"  - source: {c.source}"]
    lines += ["", "## Zero-shot status per suite family", "",
              "A leaderboard marks a result † (not zero-shot) when the encoder's training data include the suite's "
              "source recordings, and `impact-bench leaderboard --zero-shot-only` leaves it out. Untrained "
              "(random-init) runs are always zero-shot.", "",
              "| family | suites and source | this encoder |", "|---|---|---|"]
    for family, what in FAMILIES.items():
        corpus = card.exposure({family})
        verdict = "zero-shot" if corpus is None else f"† not zero-shot ({corpus.relation_text()})"
        lines.append(f"| {family} | {what} | {verdict} |")
    cost = card.cost
    lines += ["", "## Size and compute", "",
              f"- Parameters: {_count(cost.parameters, '')}",
              f"- MACs per 1-s clip at {card.sample_rate} Hz: {_count(cost.macs_per_clip, 'MACs')}"]
    lines += [f"- Note: {cost.note}"] if cost.note else []
    lines += ["- Measured with `python scripts/measure_card_costs.py` (torch's FLOP counter on seeded weights; "
              "MACs = FLOPs / 2; see the script's docstring for what is counted)", "",
              "## Licences", "", f"- Code: {card.code_licence}", f"- Weights: {card.weights_licence}", ""]
    if card.weights is not None:
        w = card.weights
        lines += ["## Weights", "", f"- Files: {', '.join(f'`{f}`' for f in w.files)}", f"- Where: {w.source}",
                  f"- Environment variable: `{w.env_var}`"]
        lines += [f"- Note: {w.note}"] if w.note else []
        lines += [""]
    lines += ["## Citation", "", card.citation, ""]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    from impact_bench.encoders.cards import CARDS
    from impact_bench.errors import EncoderError

    card = CARDS.get(args.encoder)
    if card is None:
        raise EncoderError(f"no model card for encoder {args.encoder!r}: cards exist for the built-ins "
                           f"{', '.join(sorted(CARDS))}")
    text = render(card)
    if args.out is None:
        print(text)
        return 0
    out: Path = args.out
    if out.is_dir():
        raise EncoderError(f"-o {out}: is a folder; give a file name such as {out / (card.name + '.md')}")
    if out.exists() and not args.overwrite:
        try:
            first = out.read_text(encoding="utf-8", errors="replace").lstrip()[:len(MARK)]
        except OSError as exc:
            raise EncoderError(f"-o {out}: cannot read the existing file ({exc})") from exc
        if first != MARK:
            raise EncoderError(f"-o {out}: exists and was not written by impact-bench card; pass --overwrite to "
                               f"replace it, or choose another file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise EncoderError(f"-o {out}: cannot write the card ({exc})") from exc
    print(f"wrote {out}")
    return 0
