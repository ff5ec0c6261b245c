import importlib.util

import pytest

from impact_bench.encoders.catalog import build_encoder, encoder_registry, parse_options
from impact_bench.encoders.conformance import assert_conforms, run_checks
from impact_bench.encoders.protocol import describe
from impact_bench.errors import EncoderError


def test_logmel_stats_is_256_d():  # conformance: tests/test_conformance.py
    assert build_encoder("logmel-stats").embedding_dim == 256


@pytest.mark.skipif(importlib.util.find_spec("opensmile") is None, reason="opensmile extra not installed")
def test_opensmile_has_compare_dims_and_says_non_commercial():  # conformance: tests/test_conformance.py
    enc = build_encoder("opensmile")
    assert enc.embedding_dim == 6373 and "non-commercial" in describe(enc)["licence"].lower()
    assert build_encoder("opensmile", options={"feature_set": "eGeMAPSv02"}).embedding_dim == 88


def test_unknown_encoder_suggests():
    with pytest.raises(EncoderError, match="did you mean 'logmel-stats'"):
        build_encoder("logmel-stat")


PLUGIN = '''
import numpy as np
class Tiny:
    name, version, sample_rate, embedding_dim = "tiny", "1", 16000, 4
    min_input_seconds, max_input_seconds = 0.1, None
    def embed(self, batch):
        b = np.asarray(batch, dtype=np.float32)
        return np.stack([b.mean(1), b.std(1), np.abs(b).max(1), (b ** 2).mean(1)], 1).astype(np.float32)
class Sloppy(Tiny):
    def embed(self, batch):
        np.random.random()  # touches global RNG, and batch-dependent output
        b = np.asarray(batch, dtype=np.float32)
        return (np.repeat(b.mean(1, keepdims=True), 4, 1) + len(b)).astype(np.float32)
'''


@pytest.fixture()
def plugin_file(tmp_path):
    path = tmp_path / "my_enc.py"
    path.write_text(PLUGIN)
    return path


def test_file_plugin_loads_and_conforms(plugin_file):
    enc = build_encoder(f"{plugin_file}:Tiny")
    assert enc.name == "tiny"
    assert_conforms(enc)


def test_bad_encoder_fails_named_checks(plugin_file):
    failed = {c.name for c in run_checks(build_encoder(f"{plugin_file}:Sloppy")) if not c.passed}
    assert {"batch-invariance", "no-side-effects"} <= failed


def test_plugin_raising_on_import_gives_clear_error(tmp_path):
    path = tmp_path / "boom.py"
    path.write_text("raise RuntimeError('kaboom')\n")
    with pytest.raises(EncoderError, match="boom.py: importing the encoder file failed: RuntimeError: kaboom"):
        build_encoder(f"{path}:X")
    with pytest.raises(EncoderError, match="does not exist"):
        build_encoder(f"{tmp_path}/missing.py:X")


def test_not_an_encoder_and_bad_options(tmp_path):
    path = tmp_path / "half.py"
    path.write_text("class Half:\n    name = 'half'\n")
    with pytest.raises(EncoderError, match="missing: \\['version'"):
        build_encoder(f"{path}:Half")
    with pytest.raises(EncoderError, match="has no option"):
        build_encoder("logmel-stats", options={"nope": 1})
    with pytest.raises(EncoderError, match="takes no checkpoint"):
        build_encoder(f"{tmp_path}/half.py:Half", checkpoint="x.pt")


def test_parse_options():
    assert parse_options(["a=1", "b=2.5", "c=true", "d=x"]) == {"a": 1, "b": 2.5, "c": True, "d": "x"}
    with pytest.raises(EncoderError):
        parse_options(["novalue"])


def test_entry_point_plugins_and_autoload_switch(monkeypatch):
    from importlib.metadata import EntryPoint
    import impact_bench.encoders.catalog as cat
    eps = [EntryPoint("ep-tiny", "math:sqrt", cat.ENTRY_POINT_GROUP),
           EntryPoint("opensmile", "math:sqrt", cat.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(cat, "entry_points", lambda group: eps)
    registry, notices = encoder_registry()
    assert "ep-tiny" in registry.names() and any("opensmile" in n and "built-in" in n for n in notices)
    assert registry.entry("opensmile").origin == "builtin"
    monkeypatch.setenv("IMPACT_BENCH_NO_PLUGINS", "1")
    assert "ep-tiny" not in encoder_registry()[0].names()
    assert "ep-tiny" not in encoder_registry(autoload=False)[0].names()
