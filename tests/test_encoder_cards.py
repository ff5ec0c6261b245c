"""Encoder cards (impact_bench/encoders/cards.py): the one place where built-in encoder facts live.

Every card validates and its target imports (no model is built); the registry, ``impact-bench list
encoders``, the weights manifests and the results' encoder record read the cards; adapters carry no
licence of their own that could contradict them; the README's encoder table names every built-in with
its card's licence."""
from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from impact_bench.encoders.cards import CARDS, EncoderCard, WeightsManifest, card_for, licence_of
from impact_bench.encoders.catalog import BUILTINS, build_encoder, encoder_registry
from impact_bench.encoders.protocol import LICENCE_KEYS, describe, identity
from impact_bench.errors import EncoderError
from impact_bench.registry import import_target
from impact_bench.weights import MANIFESTS

README = Path(__file__).resolve().parents[1] / "README.md"
NAMES = list(CARDS)


@pytest.mark.parametrize("name", NAMES)
def test_card_validates(name):
    card = CARDS[name]
    assert card.name == name
    assert EncoderCard.model_validate(card.model_dump()) == card  # round-trips through plain data
    assert card.needs_weights == (card.weights is not None)  # every built-in that needs weights has a manifest
    if card.weights is not None:
        assert card.weights.encoder == name and card.weights.files and card.weights.licence
    with pytest.raises(ValidationError):
        card.licence = "changed"  # frozen


def test_cards_forbid_unknown_fields_and_foreign_manifests():
    base = CARDS["beats"].model_dump()
    with pytest.raises(ValidationError, match="license"):
        EncoderCard.model_validate({**base, "license": "MIT"})  # one spelling: licence
    with pytest.raises(ValidationError, match="holds the weights manifest of 'clap'"):
        EncoderCard.model_validate({**base, "weights": CARDS["clap"].weights})
    with pytest.raises(ValidationError):
        EncoderCard.model_validate({**base, "target": "no_colon"})
    card = EncoderCard.model_validate({**base, "weights": {"files": ["x.pt"], "source": "s", "licence": "l"}})
    assert card.weights == WeightsManifest(encoder="beats", files=("x.pt",), source="s", licence="l")


@pytest.mark.parametrize("name", NAMES)
def test_card_target_imports_and_agrees_with_the_class(name):
    card = CARDS[name]
    cls = import_target(card.target)  # imports the adapter module only; nothing is built
    assert isinstance(cls, type) and f"{cls.__module__}:{cls.__qualname__}" == card.target
    assert cls.name == name
    for attr in ("sample_rate", "embedding_dim"):  # fixed by the class in some adapters, by __init__ in others
        value = getattr(cls, attr, None)
        if isinstance(value, int):
            assert value == getattr(card, attr), f"{name}.{attr}: class says {value}, card {getattr(card, attr)}"
    for attr in ("licence", "license", "description"):  # the card is the one place for these
        assert not hasattr(cls, attr), f"{card.target} sets {attr!r}; it belongs on the card in cards.py"


def test_registry_listing_and_manifests_are_views_of_the_cards():
    registry, _ = encoder_registry(autoload=False)
    assert registry.names() == sorted(CARDS)
    for name, card in CARDS.items():
        meta = registry.entry(name).meta
        assert (meta["licence"], meta["description"], meta["card"]) == (card.licence, card.description, card)
        assert BUILTINS[name] == (card.target, card.licence, card.description)
    assert MANIFESTS == {n: c.weights for n, c in CARDS.items() if c.weights is not None}

    from impact_bench.cli import listing
    parser = argparse.ArgumentParser()
    listing.add_parser(parser.add_subparsers())
    args = parser.parse_args(["list", "encoders", "--no-plugins"])
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert args.func(args) == 0
    for name, card in CARDS.items():
        assert re.search(rf"^{re.escape(name)}\s+builtin\s+{re.escape(card.licence)}\s", out.getvalue(), re.M), name


@pytest.mark.parametrize("name", [n for n, c in CARDS.items() if c.needs_weights])
def test_needs_weights_means_a_clear_error_without_them(name, monkeypatch):
    card = CARDS[name]
    monkeypatch.delenv(card.weights.env_var, raising=False)
    if card.weights.release_dir is not None:
        monkeypatch.delenv(card.weights.release_dir[0], raising=False)
    with pytest.raises(EncoderError, match=re.escape(card.weights.files[0])):
        build_encoder(name, autoload=False)


class _Plugin:
    name, version, sample_rate, embedding_dim, min_input_seconds, max_input_seconds = "beats", "1", 16000, 2, 0.1, None

    def embed(self, batch):
        raise NotImplementedError


def test_describe_records_the_card_licence_under_both_spellings():
    enc = build_encoder("logmel-stats")
    assert card_for(enc) is CARDS["logmel-stats"]
    record = describe(enc)
    assert record["licence"] == record["license"] == CARDS["logmel-stats"].licence
    assert identity(enc) == {k: v for k, v in record.items() if k not in LICENCE_KEYS}

    plugin = _Plugin()  # borrows a built-in's name, not its card
    assert card_for(plugin) is None and licence_of(plugin) is None
    assert describe(plugin)["licence"] is None and describe(plugin)["license"] is None
    plugin.license = "MIT"  # plugins written against the older spelling
    assert describe(plugin)["licence"] == describe(plugin)["license"] == "MIT"
    plugin.licence = "Apache-2.0"
    assert describe(plugin)["licence"] == describe(plugin)["license"] == "Apache-2.0"


def readme_encoder_licences() -> dict[str, str]:
    """``README.md`` section "## Encoders": encoder name → licence cell (bold markers dropped). A row may
    name several encoders (```audiomae`, `audiomae-ft```)."""
    text = README.read_text(encoding="utf-8")
    assert "\n## Encoders\n" in text, "README.md has no '## Encoders' section"
    lines = text.split("\n## Encoders\n", 1)[1].split("\n## ", 1)[0].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))
    stray = [line for line in lines[start + len(table):] if line.startswith("|")]
    assert not stray, f"README encoder table is split by a blank or other line before {stray[0]!r}"
    header = [c.strip() for c in table[0].strip().strip("|").split("|")]
    assert header[:2] == ["name", "licence"], header
    out: dict[str, str] = {}
    for line in table[2:]:
        name_cell, licence_cell = line.strip()[1:].split("|", 2)[:2]
        names = re.findall(r"`([^`]+)`", name_cell)
        assert names, f"README encoder row without a `name`: {line!r}"
        for name in names:
            assert name not in out, f"README lists {name!r} twice"
            out[name] = " ".join(licence_cell.replace("**", "").split())
    return out


def test_readme_encoder_table_lists_every_builtin_with_its_card_licence():
    rows = readme_encoder_licences()
    missing = [n for n in CARDS if n not in rows]
    assert not missing, f"README.md '## Encoders' table lacks {missing}"
    wrong = {n: (rows[n], c.licence) for n, c in CARDS.items() if rows[n] != c.licence}
    assert not wrong, f"README licence differs from the card (README, card): {wrong}"
    unknown = [n for n in rows if n not in CARDS and ":" not in n]  # `hear:MODULE` is a spec, not a name
    assert not unknown, f"README.md lists encoders without a card: {unknown}"
