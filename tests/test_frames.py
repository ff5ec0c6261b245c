"""Frame-level embeddings (the optional ``embed_frames`` of the encoder contract): what each built-in's
frames are, where their timestamps sit, and the conformance checks that police the contract. Every
built-in also runs the frames-* checks in tests/test_conformance.py."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from impact_bench.checkpoints import seeded_state_dict
from impact_bench.encoders.catalog import build_encoder
from impact_bench.encoders.conformance import CHECKS_BY_NAME, run_checks
from impact_bench.encoders.protocol import FRAME_ATTRIBUTES, PROTOCOL_ATTRIBUTES, has_frames

DATA = Path(__file__).parent / "data"
FRAME_CHECKS = [name for name in CHECKS_BY_NAME if name.startswith("frames-")]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _listen(arch: str, seed: int, tmp_path: Path):
    from impact_bench.baselines.listen import RELEASE_FILES
    from impact_bench.baselines.listen_nets import ARCHITECTURES
    path = tmp_path / f"{RELEASE_FILES[arch]}.pth"
    torch.save(seeded_state_dict(ARCHITECTURES[arch]().state_dict(), seed), path)
    return build_encoder(arch, checkpoint=str(path))


def _noise(n: int, samples: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((n, samples)) * 0.1).astype(np.float32)


def test_contract_members_unchanged():
    """Frames are optional: the required members stay the seven of the Encoder protocol."""
    assert PROTOCOL_ATTRIBUTES == ("name", "version", "sample_rate", "embedding_dim", "min_input_seconds",
                                   "max_input_seconds", "embed")
    assert FRAME_ATTRIBUTES == ("embed_frames", "frame_embedding_dim", "frame_hop_ms")
    assert FRAME_CHECKS == ["frames-shapes", "frames-timestamps", "frames-deterministic", "frames-batch-invariance"]


@pytest.mark.parametrize("arch,seed,frames,hop,first", [
    ("listen", 0, 8, 16 * 376 / 48, 7.5 * 376 / 48),        # 16-frame patch columns
    ("bc-resnet-3", 1, 124, 376 / 48, 2 * 376 / 48),        # no time stride; head's 5x5 valid conv: t + 2
    ("mobilevit-xxs", 2, 4, 32 * 376 / 48, 0.0),            # five stride-2 stages
    ("mobilenetv4-small", 3, 4, 32 * 376 / 48, 0.0),
])
def test_listen_family_frames_average_to_the_embedding(arch, seed, frames, hop, first, tmp_path):
    enc = _listen(arch, seed, tmp_path)
    x = _noise(2, 48_000)
    f, ts = enc.embed_frames(x)
    assert f.shape == (2, frames, enc.embedding_dim) and enc.frame_hop_ms == pytest.approx(hop)
    np.testing.assert_allclose(ts, first + hop * np.arange(frames), atol=1e-9)
    np.testing.assert_allclose(f.mean(axis=1), enc.embed(x), rtol=1e-4, atol=1e-6)  # pool and Linear commute


def test_bc_resnet_frame_centres_follow_the_receptive_field(tmp_path):
    """Frame t responds to spectrogram frames around t + 2: its input gradient's centre of mass sits
    there (BC-ResNet is time-stride-free with centred temporal convs)."""
    from impact_bench.baselines.listen import time_frames
    enc = _listen("bc-resnet-3", 1, tmp_path)
    spec = torch.rand(1, 1, 128, 128, generator=torch.Generator().manual_seed(0), requires_grad=True)
    out = time_frames("bc-resnet-3", enc.model, spec)
    for t in (40, 60, 80):
        (grad,) = torch.autograd.grad(out[0, t].pow(2).sum(), spec, retain_graph=True)
        weight = grad.abs().sum(dim=(0, 1, 2)).double()
        centre = float((weight * torch.arange(128)).sum() / weight.sum())
        assert abs(centre - (t + 2)) < 3, (t, centre)


def test_impact_frames_are_token_columns():
    enc = build_encoder("impact", options={"random_init_seed": 3})
    x = _noise(2, 48_000, seed=1)
    frames, ts = enc.embed_frames(x)
    with torch.inference_mode():
        model = enc.model
        tokens = model.encoder(model.with_cls(model.patch_tokens(enc.frontend(torch.from_numpy(x)))))[:, 1:].numpy()
    g = model.grid
    expected = np.stack([tokens[:, [row * g + col for row in range(g)]].mean(axis=1) for col in range(g)], axis=1)
    np.testing.assert_allclose(frames, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ts, (32 * np.arange(4) + 15) * 376 / 48)  # 117.5, 368.17, 618.83, 869.5 ms
    assert enc.frame_hop_ms == pytest.approx(250.6667, abs=1e-4)


def test_beats_frames_average_to_the_embedding():
    enc = build_encoder("beats", checkpoint=str(DATA / "beats_tiny.pt"))
    x = _noise(2, 16_000 + 1234, seed=2)
    frames, ts = enc.embed_frames(x)
    assert frames.shape == (2, (1 + (17_234 - 400) // 160) // 16, enc.embedding_dim)  # whole 16-frame patches
    np.testing.assert_allclose(ts, 87.5 + 160 * np.arange(frames.shape[1]))
    np.testing.assert_allclose(frames.mean(axis=1), enc.embed(x), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name,file", [("audiomae", "audiomae_tiny_pretrained.pth"),
                                       ("audiomae-ft", "audiomae_tiny_finetuned.pth")])
def test_audiomae_frames(name, file):
    enc = build_encoder(name, checkpoint=str(DATA / file), options={"num_heads": 4})
    full = 400 + 160 * 1023  # exactly 1024 fbank frames: no padding
    x = _noise(1, full, seed=3)
    frames, ts = enc.embed_frames(x)
    assert frames.shape == (1, 64, enc.embedding_dim) and ts[-1] == 87.5 + 160 * 63
    if name == "audiomae":  # norm per token, then the mean: the clip embedding is the frames' mean
        np.testing.assert_allclose(frames.mean(axis=1), enc.embed(x), rtol=1e-4, atol=1e-6)
    short, ts_short = enc.embed_frames(x[:, :16_000])  # rows centred after 1 s (official padding) dropped
    assert len(ts_short) == 6 and ts_short[-1] == 887.5
    np.testing.assert_allclose(short[0, 0], enc.embed_frames(x[:, :16_000])[0][0, 0])


def test_logmel_frames_locate_a_click():
    enc = build_encoder("logmel-stats")
    x = np.zeros((1, 48_000), np.float32)
    x[0, 24_000] = 1.0  # a click at 500 ms
    frames, ts = enc.embed_frames(x)
    assert frames.shape == (1, 94, 128) and enc.frame_hop_ms == pytest.approx(512 / 48)
    assert abs(ts[int(frames[0].sum(axis=1).argmax())] - 500.0) <= enc.frame_hop_ms / 2
    emb = enc.embed(x)
    np.testing.assert_allclose(frames.mean(axis=1), emb[:, :128], rtol=1e-5, atol=1e-4)  # the "mean" half


# --- the conformance checks on toy encoders -------------------------------------------------------------

class GoodFrames:
    name, version, sample_rate, embedding_dim = "good-frames", "1", 16000, 2
    min_input_seconds, max_input_seconds = 0.1, None
    frame_embedding_dim, frame_hop_ms = 1, 10.0

    def embed(self, batch: np.ndarray) -> np.ndarray:
        return np.stack([batch.std(1), np.abs(np.diff(batch, axis=1)).mean(1)], axis=1).astype(np.float32)

    def embed_frames(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = batch.shape[1] // 160
        frames = np.abs(batch[:, :n * 160]).reshape(len(batch), n, 160).mean(axis=2, keepdims=True)
        return frames.astype(np.float32), 5.0 + 10.0 * np.arange(n)


class OutsideTheClip(GoodFrames):
    def embed_frames(self, batch):
        frames, ts = super().embed_frames(batch)
        return frames, ts + 50.0


class IrregularHop(GoodFrames):
    frame_hop_ms = 12.0


class WrongDtype(GoodFrames):
    def embed_frames(self, batch):
        frames, ts = super().embed_frames(batch)
        return frames.astype(np.float64), ts.astype(np.float32)


class BatchDependent(GoodFrames):
    def embed_frames(self, batch):
        frames, ts = super().embed_frames(batch)
        return frames - frames.mean(axis=0, keepdims=True), ts


class ShiftsWithLength(GoodFrames):
    def embed_frames(self, batch):
        frames, ts = super().embed_frames(batch)
        return frames, ts + (batch.shape[1] % 7) * 0.1


@pytest.mark.parametrize("cls,failing", [
    (GoodFrames, set()), (OutsideTheClip, {"frames-timestamps"}), (IrregularHop, {"frames-timestamps"}),
    (WrongDtype, {"frames-shapes"}), (BatchDependent, {"frames-batch-invariance"}),
    (ShiftsWithLength, {"frames-timestamps"}),
])
def test_frame_checks_catch_broken_frames(cls, failing):
    results = {c.name: c for c in run_checks(cls())}
    assert {n for n, c in results.items() if not c.passed} == failing, {n: c.message for n, c in results.items()}
    assert not any(c.skipped for c in results.values())


class NoFrames(GoodFrames):
    embed_frames = None  # type: ignore[assignment]


def _check_encoder(spec: str) -> argparse.Namespace:
    return argparse.Namespace(encoder=spec, checkpoint=None, encoder_opt=[], device="cpu", trust_checkpoint=False,
                              no_plugins=True)


def test_frame_checks_skip_encoders_without_frames(capsys):
    from impact_bench.cli.check_encoder import main
    from impact_bench.encoders.logmel import LogMelStats

    assert not has_frames(NoFrames()) and has_frames(LogMelStats())
    results = run_checks(NoFrames())
    assert [c.name for c in results if c.skipped] == FRAME_CHECKS and all(c.passed for c in results)
    assert main(_check_encoder(f"{__name__}:NoFrames")) == 0
    out = capsys.readouterr().out
    assert "[SKIP] frames-shapes" in out and "8 passed, 0 failed, 4 skipped" in out
    assert main(_check_encoder(f"{__name__}:GoodFrames")) == 0
    out = capsys.readouterr().out
    assert "[PASS] frames-timestamps" in out and "12 passed, 0 failed\n" in out
    assert main(_check_encoder(f"{__name__}:OutsideTheClip")) == 1
    assert "[FAIL] frames-timestamps" in capsys.readouterr().out
