"""--encoder hear:MODULE wraps any module with the HEAR common API."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from impact_bench.encoders.catalog import build_encoder
from impact_bench.encoders.conformance import assert_conforms
from impact_bench.errors import EncoderError

TOY = textwrap.dedent('''
    import torch
    SEEN = []

    class Model(torch.nn.Module):
        sample_rate = 16000
        scene_embedding_size = 6
        timestamp_embedding_size = 3

    def load_model(model_file_path=""):
        SEEN.append(model_file_path)
        return Model()

    def get_scene_embeddings(audio, model):
        frames = audio[:, : audio.shape[1] // 160 * 160].reshape(audio.shape[0], -1, 160)
        spec = torch.fft.rfft(frames).abs().log1p()
        bands = torch.stack([b.mean(dim=(1, 2)) for b in spec.chunk(3, dim=-1)], dim=1)
        return torch.cat([bands, spec.std(dim=(1, 2))[:, None].expand(-1, 3)], dim=1)
''')


@pytest.fixture()
def toy_module(tmp_path, monkeypatch):
    (tmp_path / "toyhear.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "toyhear"


def test_hear_module_is_an_encoder(toy_module):
    enc = build_encoder(f"hear:{toy_module}", checkpoint="weights.bin")
    assert enc.name == "hear-toyhear" and enc.sample_rate == 16000 and enc.embedding_dim == 6
    import toyhear
    assert toyhear.SEEN[-1] == "weights.bin"  # --checkpoint reaches load_model
    out = enc.embed(np.random.default_rng(0).standard_normal((2, 16000)).astype(np.float32))
    assert out.shape == (2, 6) and out.dtype == np.float32
    assert_conforms(enc)


def test_not_a_hear_module_or_missing_module_is_a_clear_error():
    with pytest.raises(EncoderError, match=r"not a HEAR module, missing \['load_model', 'get_scene_embeddings'\]"):
        build_encoder("hear:json")
    with pytest.raises(EncoderError, match="cannot import the HEAR module"):
        build_encoder("hear:no_such_hear_module_xyz")
    with pytest.raises(EncoderError, match="needs a module name"):
        build_encoder("hear:")
