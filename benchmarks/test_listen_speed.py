"""Clips/s of the LISTEN-family adapters against the LISTEN release's own pipeline, same run, CPU.

Per encoder (``listen``, ``bc-resnet-3``, ``mobilevit-xxs``, ``mobilenetv4-small``): one batch of 16
one-second clips at 48 kHz, ``torch.inference_mode()``, random weights (throughput does not depend on
their values; the release's model gets a copy of ours, loaded strictly, so both sides compute the same
function).

* ours: the adapter's ``embed`` (numpy in, batched ``ListenFrontend`` + network, numpy out), timed by
  ``benchmark.pedantic``;
* release: ``LISTEN_test_downstream.py`` from ``$IMPACT_BENCH_LISTEN_ROOT`` (a clone of
  github.com/hanprd/LISTEN), as its ``WavInferenceDataset`` + ``DataLoader`` + inference loop do it: per
  clip ``torch.tensor(audio).unsqueeze(0)``, ``AmplitudeToDB(MelSpectrogram(...))``, ``[:, :128]``,
  ``(spec + 80) / 160``; the clips stacked; then the release's model class (``DistillModel(cfg, 64)``,
  ``BCResNet3_Student(192)``, ``MobileViT_XXS_Student(192)``, ``MobileNetV4Small_Student(192)``) in eval
  mode on the batch; timed by ``time.perf_counter`` in pedantic's untimed ``setup``, so one release round
  runs right before each of ours (same number of rounds, interleaved: load from other processes on a
  shared machine hits both sides alike). The release's
  RMS + z-score waveform normalisation (done in its dataset; in this package by the suite before the
  adapter) is left out on both sides.

The release module does ``import torchaudio``. ``$IMPACT_BENCH_TORCHAUDIO_PY`` names a folder holding a
``torchaudio`` package whose pure-Python parts import with this torch (e.g. the 2.11 wheel unpacked
without ``torchaudio/lib``); the release's front end is then torchaudio's, exactly as the release builds
it. Without it a stub ``torchaudio`` module is inserted just for the import, and the release's pipeline is
timed with OUR front end modules applied per clip (the ratio then compares the networks and per-clip vs
batched front end, not torchaudio's transforms).

Reported per encoder: clips/s ours and release (min over rounds), their ratio (asserted ≥ 0.9 to allow
noise), the front end and network parts of each (ms per batch of 16), and — context only, not comparable —
the Raspberry-Pi-4 latency the release's README reports (ms per sample).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from impact_bench.baselines.listen import ListenFrontend
from impact_bench.encoders.catalog import build_encoder
from impact_bench.weights import LISTEN_ROOT_ENV

TORCHAUDIO_ENV = "IMPACT_BENCH_TORCHAUDIO_PY"
RELEASE_FILE = "LISTEN_test_downstream.py"
BATCH, SR = 16, 48_000
ROUNDS = 7
MIN_RATIO = 0.9
# encoder → (release class, README "Time (ms per sample)" on a Raspberry Pi 4)
RELEASE = {"listen": ("DistillModel", 32), "bc-resnet-3": ("BCResNet3_Student", 149),
           "mobilevit-xxs": ("MobileViT_XXS_Student", 190), "mobilenetv4-small": ("MobileNetV4Small_Student", 78)}
RESULTS: dict[str, dict[str, float]] = {}


def _import_torchaudio() -> str | None:
    """Import the real torchaudio from ``$IMPACT_BENCH_TORCHAUDIO_PY``; None when unset or absent."""
    folder = os.environ.get(TORCHAUDIO_ENV)
    if not folder or not (Path(folder) / "torchaudio" / "__init__.py").is_file():
        return None
    sys.path.insert(0, str(Path(folder)))
    try:
        ta = importlib.import_module("torchaudio")
        importlib.import_module("torchaudio.transforms")
    finally:
        sys.path.remove(str(Path(folder)))
    return f"torchaudio {getattr(ta, '__version__', '?')} from {folder}"


@pytest.fixture(scope="module")
def release():
    root = os.environ.get(LISTEN_ROOT_ENV)
    if not root:
        pytest.skip(f"${LISTEN_ROOT_ENV} is unset: point it at a clone of github.com/hanprd/LISTEN")
    path = Path(root) / RELEASE_FILE
    if not path.is_file():
        pytest.skip(f"{path} not found: ${LISTEN_ROOT_ENV} must be a clone of github.com/hanprd/LISTEN")
    frontend = _import_torchaudio()
    stubbed = False
    if frontend is None and "torchaudio" not in sys.modules:
        stub = types.ModuleType("torchaudio", "stub inserted by benchmarks/test_listen_speed.py for the import only")
        sys.modules["torchaudio"] = stub
        stubbed = True
    try:
        spec = importlib.util.spec_from_file_location("_listen_release_test_downstream", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up while it executes
        spec.loader.exec_module(module)
    finally:
        if stubbed:
            del sys.modules["torchaudio"]
    if frontend is None and not stubbed:  # a real torchaudio was already imported by someone else
        frontend = f"torchaudio {getattr(sys.modules['torchaudio'], '__version__', '?')} (already imported)"
    if frontend is None:
        frontend = (f"STUB torchaudio (${TORCHAUDIO_ENV} unset/absent): release networks timed with OUR "
                    f"front end applied per clip on both sides")
    print(f"\nLISTEN release: {path}\nrelease front end: {frontend}")
    return types.SimpleNamespace(module=module, torchaudio=not frontend.startswith("STUB"), label=frontend)


def _release_model(mod, name: str) -> torch.nn.Module:
    cls = getattr(mod, RELEASE[name][0])
    if name == "listen":
        cfg = mod.DistillConfig(device="cpu")
        return cls(cfg, cfg.distill_dim * cfg.multiplier)  # dim_feedforward 64, as load_models does
    return cls(192)


def _release_frontend(rel):
    """Per-clip front end as ``WavInferenceDataset.__getitem__``: (48000,) numpy → (1, 128, 128)."""
    mod = rel.module
    cfg = mod.DistillConfig(device="cpu")
    if rel.torchaudio:
        mel = mod.torchaudio.transforms.MelSpectrogram(cfg.sr, cfg.n_fft, cfg.win_length, cfg.hop_length,
                                                       cfg.n_mels, power=2.)
        db = mod.torchaudio.transforms.AmplitudeToDB("power", top_db=cfg.top_db)

        def one(audio: np.ndarray) -> torch.Tensor:
            x = torch.tensor(audio).unsqueeze(0)
            spec = db(mel(x)).squeeze(0)[:, :128]
            spec = (spec + cfg.top_db) / (2 * cfg.top_db)
            return spec.unsqueeze(0)
    else:
        ours = ListenFrontend()

        def one(audio: np.ndarray) -> torch.Tensor:
            return ours(torch.tensor(audio).unsqueeze(0))[0]  # same slice and scaling, (1, 128, 128)
    return one


def _interleaved_min(a, b, rounds: int = ROUNDS) -> tuple[float, float]:
    """Min seconds of ``a()`` and of ``b()`` over ``rounds`` alternating calls (shared-machine noise hits both)."""
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for i, fn in enumerate((a, b)):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best[0], best[1]


@pytest.mark.parametrize("name", list(RELEASE))
@pytest.mark.benchmark(group="listen-1s-48k-batch16")
def test_listen_vs_release(benchmark, release, name):
    enc = build_encoder(name, options={"random_init_seed": 0})
    theirs = _release_model(release.module, name)
    theirs.load_state_dict(enc.model.state_dict(), strict=True)  # same function on both sides
    theirs.eval()
    clip_spec = _release_frontend(release)
    batch = (0.1 * np.random.default_rng(0).standard_normal((BATCH, SR))).astype(np.float32)

    def release_spec(b: np.ndarray) -> torch.Tensor:
        return torch.stack([clip_spec(audio) for audio in b])  # DataLoader's default collate

    def release_embed(b: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return theirs(release_spec(b)).numpy()

    def our_embed(b: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return enc.embed(b)

    with torch.inference_mode():  # sanity: same network function on the same spectrogram
        spec = enc.spectrogram(batch)
        np.testing.assert_allclose(enc.model(spec).numpy(), theirs(spec).numpy(), rtol=1e-4, atol=1e-4)
    our_embed(batch), release_embed(batch)  # warm-up

    release_times: list[float] = []

    def time_release_round():  # pedantic's untimed setup: one release round right before each of ours
        t0 = time.perf_counter()
        release_embed(batch)
        release_times.append(time.perf_counter() - t0)
        return (batch,), {}

    benchmark.pedantic(our_embed, setup=time_release_round, rounds=ROUNDS, iterations=1)
    t_ours, t_rel = benchmark.stats.stats.min, min(release_times)
    # where the time goes (ms per batch of 16): front end, network on a ready spectrogram
    with torch.inference_mode():
        fe_ours, fe_rel = _interleaved_min(lambda: enc.spectrogram(batch), lambda: release_spec(batch))
        net_ours, net_rel = _interleaved_min(lambda: enc.model(spec), lambda: theirs(spec))

    r = RESULTS[name] = {"ours": BATCH / t_ours, "release": BATCH / t_rel}
    r["ratio"] = r["ours"] / r["release"]
    benchmark.extra_info.update({"clips_per_s_ours": r["ours"], "clips_per_s_release": r["release"],
                                 "ratio": r["ratio"], "release_frontend": release.label})
    if len(RESULTS) == 1:
        print(f"\n{'encoder':<18} {'ours clips/s':>12} {'release':>9} {'ratio':>6} | front end ms/16 ours/rel "
              f"| network ms/16 ours/rel | RPi4 ms/sample (README, context)")
    print(f"\n{name:<18} {r['ours']:>12.1f} {r['release']:>9.1f} {r['ratio']:>6.2f} | "
          f"{1e3 * fe_ours:>8.1f} / {1e3 * fe_rel:<8.1f}    | {1e3 * net_ours:>8.1f} / {1e3 * net_rel:<8.1f}  "
          f"| {RELEASE[name][1]}")
    assert r["ratio"] >= MIN_RATIO, (f"{name}: ours {r['ours']:.1f} clips/s vs release {r['release']:.1f} "
                                     f"({r['ratio']:.2f}x < {MIN_RATIO})")
