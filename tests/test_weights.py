"""Finding official weights without --checkpoint: environment variable, then the cache folder."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from impact_bench.encoders.catalog import build_encoder
from impact_bench.weights import MANIFESTS, locate

TINY = Path(__file__).parent / "data" / "beats_tiny.pt"


def test_lookup_order_env_file_env_folder_cache(tmp_path, monkeypatch):
    cache = Path(tmp_path / "cache") / "weights" / "beats"
    assert locate("beats").found is None and locate("beats").how == ""
    cache.mkdir(parents=True)
    shutil.copy(TINY, cache / "BEATs_iter3.pt")
    hit = locate("beats")
    assert hit.found == cache / "BEATs_iter3.pt" and hit.how == "cache"
    folder = tmp_path / "mine"
    folder.mkdir()
    shutil.copy(TINY, folder / "BEATs_iter3_plus_AS2M.pt")
    monkeypatch.setenv("IMPACT_BENCH_BEATS_CHECKPOINT", str(folder))
    assert locate("beats").found == folder / "BEATs_iter3_plus_AS2M.pt"      # env folder beats the cache
    monkeypatch.setenv("IMPACT_BENCH_BEATS_CHECKPOINT", str(cache / "BEATs_iter3.pt"))
    assert locate("beats").how == "$IMPACT_BENCH_BEATS_CHECKPOINT"
    assert locate("beats", "x.pt").found == Path("x.pt")                     # --checkpoint wins


def test_build_encoder_uses_the_found_file(tmp_path):
    cache = Path(tmp_path / "cache") / "weights" / "beats"
    cache.mkdir(parents=True)
    shutil.copy(TINY, cache / "BEATs_iter3.pt")
    enc = build_encoder("beats")
    assert enc.config["checkpoint_file"] == "BEATs_iter3.pt" and enc.embedding_dim == 64


def test_weights_cli_lists_every_manifest(tmp_path):
    done = subprocess.run([sys.executable, "-m", "impact_bench.cli", "weights"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for name, m in MANIFESTS.items():
        assert name in done.stdout and m.env_var in done.stdout
    bad = subprocess.run([sys.executable, "-m", "impact_bench.cli", "weights", "beets"], capture_output=True,
                         text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "did you mean 'beats'" in bad.stderr


@pytest.mark.parametrize("name", list(MANIFESTS))
def test_every_manifest_names_files_source_and_licence(name):
    m = MANIFESTS[name]
    assert m.files and m.source and m.licence and m.env_var.startswith("IMPACT_BENCH_")


def test_missing_checkpoint_error_says_where_it_looked(tmp_path):
    from impact_bench.errors import EncoderError
    with pytest.raises(EncoderError) as err:
        build_encoder("beats")
    msg = str(err.value)
    assert "microsoft/unilm" in msg and "$IMPACT_BENCH_BEATS_CHECKPOINT (unset)" in msg
    assert str(Path(tmp_path / "cache") / "weights" / "beats") in msg
