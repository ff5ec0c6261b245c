"""impact-bench encoders as HEAR 2021 modules (impact_bench.hear.*): the common API's contract, checked
directly (the rules of hearbenchmark/hear-validator ``validate.py`` and more), on every module that needs
no weights and on tiny seeded checkpoints in the official layouts for the others. The real validator
runs in a slow test at the end."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from impact_bench import audio as audio_ops
from impact_bench.checkpoints import seeded_state_dict
from impact_bench.errors import EncoderError
from impact_bench.hear.model import HearModel, load

DATA = Path(__file__).parent / "data"
HEAR_RATES = (16000, 22050, 32000, 44100, 48000)  # hear-validator ValidateModel.ACCEPTABLE_SAMPLE_RATE
LISTEN_SEEDS = {"listen": 0, "bc-resnet-3": 1, "mobilevit-xxs": 2, "mobilenetv4-small": 3}  # scripts/golden/listen.py


class NoFrames:
    """A weight-free encoder without embed_frames: timestamp embeddings come from sliding windows."""

    name, version, sample_rate, embedding_dim = "no-frames", "1", 16000, 3
    min_input_seconds, max_input_seconds = 0.05, None

    def embed(self, batch: np.ndarray) -> np.ndarray:
        x = np.asarray(batch, dtype=np.float64)
        return np.stack([x.mean(1), x.std(1), np.abs(np.diff(x, axis=1)).mean(1)], axis=1).astype(np.float32)


def _impact_file(folder: Path) -> Path:
    from impact_bench.impact.config import preset
    from impact_bench.impact.model import ImpactEncoder
    cfg = preset("reference").replace(model={"embed_dim": 48, "depth": 2})  # 48 / 12 heads; width, depth from shapes
    path = folder / "impact_tiny.pth"
    torch.save({"model_state_dict": seeded_state_dict(ImpactEncoder(cfg).state_dict(), 5)}, path)
    return path


def _listen_file(folder: Path, arch: str) -> Path:
    from impact_bench.baselines.listen import RELEASE_FILES
    from impact_bench.baselines.listen_nets import ARCHITECTURES
    path = folder / f"{RELEASE_FILES[arch]}.pth"
    torch.save(seeded_state_dict(ARCHITECTURES[arch]().state_dict(), LISTEN_SEEDS[arch]), path)
    return path


# HEAR module → how to make its model file (None: weight-free)
MODULES = {
    "logmel_stats": None,
    "impact": _impact_file,
    **{arch.replace("-", "_"): (lambda a: lambda folder: _listen_file(folder, a))(arch) for arch in LISTEN_SEEDS},
    "beats": lambda folder: DATA / "beats_tiny.pt",
    "audiomae": lambda folder: DATA / "audiomae_tiny_pretrained.pth",  # 48-d: 12 heads of 4
    "audiomae_ft": lambda folder: DATA / "audiomae_tiny_finetuned.pth",
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def hear_model(tmp_path_factory):
    """module name → (the module, its loaded model, the model file or ""), built once."""
    folder = tmp_path_factory.mktemp("hear")
    built: dict[str, tuple] = {}

    def get(name: str):
        if name not in built:
            module = importlib.import_module(f"impact_bench.hear.{name}")
            file = "" if MODULES[name] is None else str(MODULES[name](folder))
            built[name] = (module, module.load_model(file), file)
        return built[name]
    return get


def _noise(n_sounds: int, seconds: float, sr: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).uniform(-1, 1, (n_sounds, int(seconds * sr))).astype(np.float32))


def test_every_module_serves_a_catalog_encoder():
    from impact_bench.encoders.cards import CARDS
    folder = Path(importlib.import_module("impact_bench.hear").__file__).parent
    infrastructure = {"__init__", "model", "module", "embeddings", "by_name"}
    names = sorted(p.stem for p in folder.glob("*.py") if p.stem not in infrastructure)
    assert set(MODULES) <= set(names) and len(names) >= 14
    for stem in names:
        load_model = importlib.import_module(f"impact_bench.hear.{stem}").load_model
        assert load_model.encoder_name in CARDS and load_model.encoder_name.replace("-", "_") == stem


@pytest.mark.parametrize("name", list(MODULES))
def test_model_attributes(name, hear_model):
    _, model, _ = hear_model(name)
    assert isinstance(model, torch.nn.Module) and isinstance(model, HearModel) and not model.training
    assert model.sample_rate in HEAR_RATES
    assert isinstance(model.scene_embedding_size, int) and isinstance(model.timestamp_embedding_size, int)
    assert model.scene_embedding_size == model.encoder.embedding_dim
    assert model.timestamp_embedding_size == model.encoder.frame_embedding_dim  # every module here has frames


@pytest.mark.parametrize("seconds", [0.1, 4.0], ids=["short", "long"])
@pytest.mark.parametrize("name", list(MODULES))
def test_hear_contract(name, seconds, hear_model):
    """Shapes, dtypes and timestamps for batches of 1 and 3; a batch's rows equal the sounds alone."""
    module, model, _ = hear_model(name)
    audio = _noise(3, seconds, model.sample_rate)
    scene = module.get_scene_embeddings(audio, model)
    emb, ts = module.get_timestamp_embeddings(audio, model)
    assert scene.dtype == torch.float32 and scene.shape == (3, model.scene_embedding_size)
    assert emb.dtype == torch.float32 and emb.ndim == 3 and emb.shape[0] == 3
    assert emb.shape[2] == model.timestamp_embedding_size and ts.shape == emb.shape[:2] and emb.shape[1] >= 1
    assert torch.isfinite(scene).all() and torch.isfinite(emb).all()
    t = ts.numpy().astype(np.float64)
    assert (t == t[0]).all()  # equal-length sounds share their timestamps
    hop = model.encoder.frame_hop_ms
    if t.shape[1] > 1:
        np.testing.assert_allclose(np.diff(t[0]), hop, atol=2e-3)  # regular: the validator allows 1 ms
    duration = 1000 * seconds
    assert t[0, 0] >= 0 and (t[0, -1] <= duration + 1e-3 or t.shape[1] == 1)
    if seconds == 4.0:  # long: frames reach the end (BEATs leaves < one patch of fbank frames unembedded)
        assert t[0, -1] >= duration - 2 * hop
    for i in (0, 2):
        one = audio[i:i + 1]
        torch.testing.assert_close(module.get_scene_embeddings(one, model), scene[i:i + 1], rtol=1e-4, atol=1e-5)
        e1, t1 = module.get_timestamp_embeddings(one, model)
        torch.testing.assert_close(e1, emb[i:i + 1], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(t1, ts[i:i + 1])


@pytest.mark.parametrize("name", ["impact", "listen", "bc_resnet_3", "beats"])
def test_long_audio_frames_are_the_windows_frames(name, hear_model):
    """Timestamp embeddings of a long sound are embed_frames of windows on one regular grid: the frames
    of window i are embed_frames of the audio from i · F · hop samples, shifted by that start."""
    module, model, _ = hear_model(name)
    enc, sr = model.encoder, model.sample_rate
    audio = _noise(2, 2.6 if model.frame_window < 3 * sr else 21.0, sr, seed=4)
    emb, ts = module.get_timestamp_embeddings(audio, model)
    per_window = len(enc.embed_frames(np.zeros((1, model.frame_window), np.float32))[1])
    step = int(round(per_window * enc.frame_hop_ms * sr / 1000))
    norm = getattr(enc, "input_waveform_norm", None) or "none"
    window = audio_ops.normalise(audio[:, step:step + model.frame_window].numpy(), norm)
    frames, centres = enc.embed_frames(window)
    np.testing.assert_allclose(emb[:, per_window:2 * per_window].numpy(), frames, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ts[0, per_window:2 * per_window].numpy(), centres + 1000 * step / sr, atol=1e-3)
    np.testing.assert_allclose(np.diff(ts[0].numpy().astype(np.float64)), enc.frame_hop_ms, atol=2e-3)


def test_one_clip_equals_the_encoder(hear_model):
    """A sound of exactly the model input: scene = embed, timestamps = embed_frames (LISTEN normalises first)."""
    module, model, _ = hear_model("listen")
    audio = _noise(2, 1.0, 48_000, seed=2)
    clip = audio_ops.normalise(audio.numpy(), "rms-zscore-ddof1")
    np.testing.assert_allclose(module.get_scene_embeddings(audio, model).numpy(), model.encoder.embed(clip), rtol=1e-5)
    frames, centres = model.encoder.embed_frames(clip)
    emb, ts = module.get_timestamp_embeddings(audio, model)
    np.testing.assert_allclose(emb.numpy(), frames, rtol=1e-5)
    np.testing.assert_allclose(ts[0].numpy(), centres, atol=1e-4)


def test_scene_of_a_long_sound_averages_model_inputs(hear_model):
    module, model, _ = hear_model("impact")
    audio = _noise(1, 2.5, 48_000, seed=3)
    windows = np.concatenate([audio[:, s:s + 48_000].numpy() for s in (0, 48_000, 72_000)])  # last ends at the end
    expected = model.encoder.embed(windows).mean(axis=0, keepdims=True)
    np.testing.assert_allclose(module.get_scene_embeddings(audio, model).numpy(), expected, rtol=1e-4, atol=1e-6)


def test_timestamps_do_not_drift_on_long_audio(hear_model):
    module, model, _ = hear_model("impact")
    _, ts = module.get_timestamp_embeddings(torch.zeros(1, 48_000 * 30), model)
    k = np.arange(ts.shape[1])
    np.testing.assert_allclose(ts[0].numpy(), 117.5 + k * 32 * 376 / 48, atol=5e-3)  # (32k + 15) · 376 / 48 kHz
    assert ts[0, -1] <= 30_000


def test_sliding_windows_without_frames():
    model = load("test_hear_api:NoFrames", hear_module="toy")
    from impact_bench.hear.module import get_scene_embeddings, get_timestamp_embeddings
    audio = _noise(3, 1.07, 16_000, seed=5)
    emb, ts = get_timestamp_embeddings(audio, model)
    assert model.timestamp_embedding_size == 3 and emb.shape == (3, 22, 3)  # 0, 50, …, 1050 ms
    np.testing.assert_allclose(ts[0].numpy(), np.arange(22) * 50.0)
    padded = np.pad(audio.numpy(), ((0, 0), (8000, 8000)))  # half of the 1-s window at both ends
    start = 10 * 800  # the window centred at 500 ms
    np.testing.assert_allclose(emb[:, 10].numpy(), NoFrames().embed(padded[:, start:start + 16_000]), rtol=1e-5)
    np.testing.assert_allclose(get_scene_embeddings(audio, model).numpy(), NoFrames().embed(audio.numpy()), rtol=1e-6)
    coarse = load("test_hear_api:NoFrames", options={"timestamp_hop_ms": 250}, hear_module="toy")
    emb250, ts250 = get_timestamp_embeddings(audio, coarse)
    np.testing.assert_allclose(ts250[0].numpy(), [0, 250, 500, 750, 1000])
    torch.testing.assert_close(emb250[:, 2], emb[:, 10])  # both centred at 500 ms


def test_errors_are_clear(tmp_path, hear_model):
    import impact_bench.hear.by_name as by_name
    import impact_bench.hear.impact as impact
    with pytest.raises(EncoderError, match=r"impact_bench\.hear\.impact: load_model\(\) without a checkpoint failed: "
                                           r"encoder 'impact' needs weights.* pass its checkpoint as model_file_path"):
        impact.load_model()
    with pytest.raises(EncoderError, match="no such file"):
        impact.load_model(str(tmp_path / "missing.pth"))
    with pytest.raises(EncoderError, match="'NAME' or 'NAME=CHECKPOINT'"):
        by_name.load_model("")
    with pytest.raises(EncoderError, match="'beats=CHECKPOINT'"):
        by_name.load_model("beats")
    _, model, _ = hear_model("logmel_stats")
    with pytest.raises(EncoderError, match=r"torch.Tensor \(n_sounds, n_samples\)"):
        impact.get_scene_embeddings(torch.zeros(48_000), model)
    with pytest.raises(EncoderError, match="load_model"):
        impact.get_timestamp_embeddings(torch.zeros(1, 48_000), torch.nn.Linear(1, 1))


def test_by_name_serves_any_catalog_encoder(hear_model):
    import impact_bench.hear.by_name as by_name
    _, listen, file = hear_model("listen")
    audio = _noise(2, 1.3, 48_000, seed=6)
    expected = by_name.get_scene_embeddings(audio, listen)
    for model in (by_name.load_model(f"listen={file}"), by_name.load_model(file, encoder="listen")):  # validator, kit
        torch.testing.assert_close(by_name.get_scene_embeddings(audio, model), expected)
    assert by_name.load_model("logmel-stats").scene_embedding_size == 256


def test_keyword_options_reach_the_encoder():
    """hear-eval-kit passes --model-options as keywords of load_model: they are encoder options."""
    import impact_bench.hear.impact as impact
    a, b = impact.load_model(random_init_seed=3), impact.load_model(random_init_seed=3)
    audio = _noise(1, 1.0, 48_000, seed=7)
    torch.testing.assert_close(impact.get_scene_embeddings(audio, a), impact.get_scene_embeddings(audio, b))
    with pytest.raises(EncoderError, match="has no option"):
        impact.load_model(no_such_option=1)


def test_model_moves_with_to(hear_model):
    _, model, _ = hear_model("beats")
    assert model.to("cpu") is model and model.encoder.device == torch.device("cpu")
    assert any(p is q for p in model.parameters() for q in model.encoder.model.parameters())


def _validator_site() -> str | None:
    """Where hearvalidator and TensorFlow import from: this environment, or $IMPACT_BENCH_HEARVALIDATOR_SITE (a
    `pip install --target` folder kept out of the venv, docs/hear.md)."""
    return os.environ.get("IMPACT_BENCH_HEARVALIDATOR_SITE") or None


@pytest.mark.slow
@pytest.mark.parametrize("name", ["logmel_stats", "listen", "impact", "beats"])  # ~35 s each (TensorFlow import)
def test_hear_validator_accepts(name, tmp_path):
    """hearvalidator 2021.0.6 itself (python -m-less: its main() with argv), in a subprocess."""
    site = _validator_site()
    probe = ("import sys; sys.path += [p for p in sys.argv[1:] if p]; import importlib.util as u; "
             "missing = [m for m in ('hearvalidator', 'tensorflow') if u.find_spec(m) is None]; print(*missing)")
    found = subprocess.run([sys.executable, "-c", probe, site or ""], capture_output=True, text=True, cwd=tmp_path)
    if found.stdout.strip():
        pytest.skip(f"{found.stdout.strip()} not importable: pip install --no-deps --ignore-requires-python "
                    f"hearvalidator==2021.0.6 and tensorflow-cpu (docs/hear.md)")
    file = "" if MODULES[name] is None else str(MODULES[name](tmp_path))
    run = ("import sys; sys.path += [p for p in sys.argv[1:2] if p]; sys.argv = ['hear-validator', *sys.argv[2:]]; "
           "from hearvalidator.validate import main; main()")
    args = [f"impact_bench.hear.{name}", "--device", "cpu"] + (["--model", file] if file else [])
    out = subprocess.run([sys.executable, "-c", run, site or "", *args], capture_output=True, text=True,
                         cwd=tmp_path, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=600)
    assert out.returncode == 0 and "Looks good!" in out.stdout, out.stdout[-3000:] + out.stderr[-3000:]
