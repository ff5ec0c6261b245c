"""Model cards (issue 16, part 4): training-data provenance, measured cost, licences and citation on every
encoder card; `impact-bench card`; leaderboards marking (†) and leaving out (--zero-shot-only) results whose
encoder saw the suite's source recordings; the stored MACs agree with a fresh measurement."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from impact_bench.cli import main as cli_main
from impact_bench.cli.card import MARK, render
from impact_bench.encoders.cards import CARDS, EncoderCard
from impact_bench.encoders.provenance import FAMILIES, Corpus, suite_families
from impact_bench.leaderboards.common import NOT_ZERO_SHOT, published_seen, seen_source

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "measure_card_costs.py"


def _script():
    spec = importlib.util.spec_from_file_location("measure_card_costs", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", list(CARDS))
def test_every_card_has_the_model_card_fields(name):
    card = CARDS[name]
    assert card.code_licence and card.weights_licence and card.citation
    assert card.saw <= set(FAMILIES)
    for corpus in card.training_data:
        assert corpus.source and corpus.stage
        assert (corpus.benchmark_clips is not None) == bool(corpus.families)
    if card.weights is None:  # weight-free encoders saw nothing and are zero-shot everywhere
        assert card.training_data == () and card.saw == frozenset()
    else:
        assert card.training_data, f"{name}: trained weights without training data on the card"
        assert card.cost.parameters and card.cost.macs_per_clip
    assert EncoderCard.model_validate(card.model_dump()) == card


def test_provenance_facts_from_the_papers():
    impact = CARDS["impact"].exposure({"dinos"})
    assert impact.benchmark_clips == "disjoint" and "§5.1" in impact.source  # same source, disjoint clips
    assert CARDS["audiomae-ft"].exposure({"dinos"}).stage == "fine-tuning"
    assert CARDS["audiomae"].saw == frozenset() and CARDS["beats"].saw == frozenset()
    for name in ("listen", "bc-resnet-3", "mobilevit-xxs", "mobilenetv4-small"):
        assert CARDS[name].saw == {"dinos"}  # the on-site recordings trained only the LISTEN head
    for name in ("clap", "vggish", "opera-ct", "opera-gt", "logmel-stats", "opensmile"):
        assert CARDS[name].saw == frozenset()
    assert CARDS["impact"].exposure({"dcase", "mimii", "listen"}) is None


def test_corpus_needs_a_clip_relation_exactly_when_it_names_a_family():
    with pytest.raises(ValidationError, match="benchmark_clips"):
        Corpus(name="x", stage="training", families=frozenset({"dinos"}), source="s")
    with pytest.raises(ValidationError, match="benchmark_clips"):
        Corpus(name="x", stage="training", benchmark_clips="disjoint", source="s")
    with pytest.raises(ValidationError):
        Corpus(name="x", stage="training", families=frozenset({"audioset"}), benchmark_clips="unknown", source="s")


def test_suite_families_follow_the_data_source():
    assert suite_families("dinos-release") == suite_families("dinos-anomaly") == {"dinos"}
    assert suite_families("dcase", 2020) == {"dcase", "mimii"}  # DCASE 2020 T2 took its MIMII machines from MIMII
    assert suite_families("dcase", 2023) == {"dcase"}
    assert suite_families("mimii") == {"mimii"} and suite_families("listen-release") == {"listen"}
    assert suite_families("dinos-release", synthetic=True) == frozenset() and suite_families(None) == frozenset()


def _record(encoder: str, suite: str, synthetic: bool = False, **suite_extra) -> dict:
    return {"encoder": {"name": encoder, "config": {}}, "suite": {"name": suite, "synthetic": synthetic, **suite_extra}}


def test_seen_source_per_run():
    assert seen_source(_record("impact", "dinos")).benchmark_clips == "disjoint"
    assert seen_source(_record("impact", "dinos-anomaly")) is not None
    assert seen_source(_record("impact", "dinos-synth", synthetic=True)) is None
    assert seen_source(_record("impact", "listen-onsite")) is None  # separate recordings
    assert seen_source(_record("impact", "dcase2020", layout="dcase", year=2020)) is None
    assert seen_source(_record("beats", "dinos")) is None
    untrained = _record("impact", "dinos")
    untrained["encoder"]["config"] = {"checkpoint_format": "random-init", "seed": 0}
    assert seen_source(untrained) is None
    assert seen_source(_record("my-plugin", "dinos")) is None and seen_source(_record("impact", "no-such")) is None
    assert published_seen("AudioMAE-FineT", "dinos") is not None and published_seen("IMPACT (LISTEN paper)", "dinos")
    assert published_seen("CLAP", "dinos") is None and published_seen("AudioMAE-PreT", "dinos") is None


def test_render_markdown():
    text = render(CARDS["impact"])
    assert text.startswith(MARK) and "# Model card: `impact`" in text
    assert "same source, disjoint clips" in text and "17,342,528" in text and "310,728,704" in text
    assert "| dinos |" in text and "† not zero-shot" in text and "| dcase |" in text
    assert "## Citation" in text and "2507.06481" in text and "## Licences" in text
    logmel = render(CARDS["logmel-stats"])
    assert "every score is zero-shot" in logmel and "† not" not in logmel
    assert "not applicable" in render(CARDS["opensmile"])


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "impact_bench.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_card_cli_prints_writes_and_refuses(tmp_path):
    proc = _cli("card", "audiomae-ft", cwd=tmp_path)
    assert proc.returncode == 0 and "a subset of DINOS" in proc.stdout and "CC BY-NC 4.0" in proc.stdout
    assert _cli("card", "listen", "-o", "cards/listen.md", cwd=tmp_path).returncode == 0
    written = (tmp_path / "cards" / "listen.md").read_text()
    assert written.startswith(MARK) and "arXiv 2507.07879" in written
    assert _cli("card", "beats", "-o", "cards/listen.md", cwd=tmp_path).returncode == 0  # its own file: replaced
    (tmp_path / "notes.md").write_text("mine")
    proc = _cli("card", "beats", "-o", "notes.md", cwd=tmp_path)
    assert proc.returncode == 2 and "--overwrite" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "notes.md").read_text() == "mine"
    proc = _cli("card", "nope", cwd=tmp_path)
    assert proc.returncode == 2 and "no model card for encoder 'nope'" in proc.stderr


@pytest.fixture(scope="module")
def results(tmp_path_factory, tiny_tree) -> dict[str, Path]:
    """One real run on the synthetic tree, re-labelled as runs of other encoders on the real `dinos` suite."""
    from impact_bench.pipeline import RunRequest, run
    out = tmp_path_factory.mktemp("cards")
    path = run(RunRequest(encoder="logmel-stats", suite="dinos-synth", data_root=tiny_tree, out=out / "base",
                          seeds=2, progress=False, use_cache=False), log=lambda m: None)
    raw = json.loads(Path(path).read_text())
    paths = {}
    for tag, encoder, config in (("impact", "impact", {}), ("impact-random", "impact", {"checkpoint_format": "random-init"}),
                                 ("beats", "beats", {})):
        data = json.loads(json.dumps(raw))
        data["suite"].update(name="dinos", comparable_to="dinos", synthetic=False)
        data["encoder"].update(name=encoder, label=tag, config=config)
        data["run_fingerprint"] = tag * 4
        target = out / f"{tag}.json"
        target.write_text(json.dumps(data))
        paths[tag] = target
    synth = json.loads(json.dumps(raw))
    synth["encoder"].update(name="impact", label="impact-on-synth", config={})
    (out / "synth.json").write_text(json.dumps(synth))
    paths["synth"] = out / "synth.json"
    return paths


def test_leaderboard_marks_and_filters(results, tmp_path):
    out = tmp_path / "board.md"
    assert cli_main(["leaderboard", *map(str, results.values()), "-o", str(out), "--no-figures"]) == 0
    page = out.read_text()
    assert f"impact {NOT_ZERO_SHOT}" in page and f"impact-random {NOT_ZERO_SHOT}" not in page
    assert f"beats {NOT_ZERO_SHOT}" not in page and f"impact-on-synth {NOT_ZERO_SHOT}" not in page
    assert f"IMPACT (published) {NOT_ZERO_SHOT}" in page and f"AudioMAE-FineT (published) {NOT_ZERO_SHOT}" in page
    assert f"CLAP (published) {NOT_ZERO_SHOT}" not in page
    assert f"{NOT_ZERO_SHOT} Not zero-shot" in page and "- impact †: pre-training on DINOS pre-training" in page
    only = tmp_path / "zero.md"
    assert cli_main(["leaderboard", *map(str, results.values()), "-o", str(only), "--no-figures",
                     "--zero-shot-only"]) == 0
    page = only.read_text()
    assert "Left out by `--zero-shot-only`" in page and "`impact.json`" in page
    assert NOT_ZERO_SHOT not in page and "impact-random" in page
    assert "IMPACT (published)" not in page and "CLAP (published)" in page


def test_zero_shot_only_with_nothing_left_is_a_clear_error(results, tmp_path, capsys):
    assert cli_main(["leaderboard", str(results["impact"]), "-o", str(tmp_path / "x.md"), "--zero-shot-only"]) == 2
    assert "nothing is left to show" in capsys.readouterr().err


def test_the_measurement_script_covers_every_card():
    script = _script()
    assert set(script.WRITERS) | set(script.NOT_NEURAL) == set(CARDS)
    assert all(CARDS[n].cost.macs_per_clip is None for n in script.NOT_NEURAL)


@pytest.mark.parametrize("name", ["logmel-stats", "impact", "listen"])
def test_stored_cost_agrees_with_a_fresh_measurement(name):
    params, macs = _script().measure(name)
    assert (params, macs) == (CARDS[name].cost.parameters, CARDS[name].cost.macs_per_clip)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in CARDS if n not in ("logmel-stats", "impact", "listen")])
def test_stored_cost_agrees_with_a_fresh_measurement_slow(name):
    params, macs = _script().measure(name)
    assert (params, macs) == (CARDS[name].cost.parameters, CARDS[name].cost.macs_per_clip)
