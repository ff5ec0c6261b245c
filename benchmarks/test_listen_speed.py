"""Clips/s of the LISTEN-family adapters against the LISTEN release's own pipeline, same run, CPU.

Per encoder (``listen``, ``bc-resnet-3``, ``mobilevit-xxs``, ``mobilenetv4-small``): one batch of 16
one-second clips at 48 kHz, ``torch.inference_mode()``, random weights (throughput does not depend on
their values; the release's model gets a copy of ours, loaded strictly, so both sides compute the same
function, checked on the batch before timing).

* ours: the adapter's ``embed`` (numpy in, batched ``ListenFrontend`` + network, numpy out), timed by
  ``benchmark.pedantic``;
* release: ``LISTEN_test_downstream.py`` from ``$IMPACT_BENCH_LISTEN_ROOT`` (a clone of
  github.com/hanprd/LISTEN), as its ``WavInferenceDataset`` + ``DataLoader`` + inference loop do it: per
  clip ``torch.tensor(audio).unsqueeze(0)``, ``AmplitudeToDB(MelSpectrogram(...))``, ``[:, :128]``,
  ``(spec + 80) / 160``; the clips stacked (default collate); then the release's model class
  (``DistillModel(cfg, 64)``, ``BCResNet3_Student(192)``, ``MobileViT_XXS_Student(192)``,
  ``MobileNetV4Small_Student(192)``) in eval mode on the batch. Timed in pedantic's untimed ``setup``: one
  release round right before each of ours, same number of rounds. The release's RMS + z-score waveform
  normalisation (in its dataset; here done by the suite before the adapter) is left out on both sides.

Clock: both sides run with ``$IMPACT_BENCH_THREADS`` torch intra-op threads (default 1). With one thread
all work runs in the calling thread, and clips/s come from the minimum *thread CPU time* per round
(``time.thread_time``), which time spent descheduled does not inflate: on the shared 2-core dev machine
other jobs kept the load at 4-7, and wall-clock rounds with 2 threads varied 2-4x, flipping the ratio
from run to run. With more threads the minimum wall time is used (pytest-benchmark's own table is always
wall time).

The release module does ``import torchaudio``. ``$IMPACT_BENCH_TORCHAUDIO_PY`` names a folder holding a
``torchaudio`` package whose pure-Python parts import with this torch (e.g. the 2.11 wheel unpacked
without ``torchaudio/lib``); the release's front end is then torchaudio's, built exactly as the release
builds it. Without it a stub ``torchaudio`` module is inserted just for the import, and the release's
pipeline is timed with OUR front end modules in the release's place (still applied per clip): the ratio
then compares networks and batched vs per-clip front end, not torchaudio's transforms.

Printed per encoder: clips/s ours and release, their ratio (asserted >= 0.9 to allow noise), where the
time goes (ms per batch of 16: front end ours batched / our ``ListenFrontend`` one clip at a time /
release; network ours / release on the same spectrogram) and, as context only (other hardware, batch 1),
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
THREADS = int(os.environ.get("IMPACT_BENCH_THREADS", "1"))
RELEASE_FILE = "LISTEN_test_downstream.py"
BATCH, SR = 16, 48_000
ROUNDS = 7             # ours and the release's, interleaved
BREAKDOWN_ROUNDS = 5   # front end / network parts
MIN_RATIO = 0.9
# encoder -> (release class, README "Time (ms per sample)" on a Raspberry Pi 4)
RELEASE = {"listen": ("DistillModel", 32), "bc-resnet-3": ("BCResNet3_Student", 149),
           "mobilevit-xxs": ("MobileViT_XXS_Student", 190), "mobilenetv4-small": ("MobileNetV4Small_Student", 78)}
RESULTS: dict[str, dict[str, float]] = {}


def _import_torchaudio() -> str | None:
    """Import the real torchaudio from ``$IMPACT_BENCH_TORCHAUDIO_PY``; None when unset or absent."""
    folder = os.environ.get(TORCHAUDIO_ENV)
    if not folder or not (Path(folder) / "torchaudio" / "__init__.py").is_file():
        return None
    sys.path.insert(0, folder)
    try:
        ta = importlib.import_module("torchaudio")
        importlib.import_module("torchaudio.transforms")
    finally:
        sys.path.remove(folder)
    return f"torchaudio {getattr(ta, '__version__', '?')} from {folder}"


@pytest.fixture(scope="module")
def release():
    root = os.environ.get(LISTEN_ROOT_ENV)
    if not root:
        pytest.skip(f"${LISTEN_ROOT_ENV} is unset: point it at a clone of github.com/hanprd/LISTEN")
    path = Path(root) / RELEASE_FILE
    if not path.is_file():
        pytest.skip(f"{path} not found: ${LISTEN_ROOT_ENV} must be a clone of github.com/hanprd/LISTEN")
    label = _import_torchaudio()
    stubbed = label is None and "torchaudio" not in sys.modules
    if stubbed:
        sys.modules["torchaudio"] = types.ModuleType("torchaudio", "stub from benchmarks/test_listen_speed.py")
    try:
        spec = importlib.util.spec_from_file_location("_listen_release_test_downstream", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up while it executes
        spec.loader.exec_module(module)
    finally:
        if stubbed:
            del sys.modules["torchaudio"]
    if label is None and not stubbed:  # a real torchaudio was imported before
        label = f"torchaudio {getattr(sys.modules['torchaudio'], '__version__', '?')} (already imported)"
    if label is None:
        label = (f"STUB torchaudio (${TORCHAUDIO_ENV} unset or absent): release networks timed with OUR front "
                 f"end on both sides (applied per clip on the release's side)")
    print(f"\nLISTEN release: {path}\nrelease front end: {label}")
    return types.SimpleNamespace(module=module, torchaudio=not stubbed, label=label)


@pytest.fixture(scope="module")
def clock():
    """(timer, its name) with torch held at THREADS intra-op threads; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    yield (time.thread_time, "thread CPU time") if THREADS == 1 else (time.perf_counter, "wall time")
    torch.set_num_threads(before)


def _release_model(mod, name: str) -> torch.nn.Module:
    cls = getattr(mod, RELEASE[name][0])
    if name == "listen":
        cfg = mod.DistillConfig(device="cpu")
        return cls(cfg, cfg.distill_dim * cfg.multiplier)  # dim_feedforward 64, as its load_models does
    return cls(192)


def _release_clip_frontend(rel):
    """One clip as ``WavInferenceDataset.__getitem__`` (after its normalisation): (48000,) -> (1, 128, 128)."""
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
            return ours(torch.tensor(audio).unsqueeze(0))[0]  # same slice and scaling
    return one


def _interleaved_min(timer, *fns, rounds: int = BREAKDOWN_ROUNDS) -> list[float]:
    """Min seconds of each of ``fns`` over ``rounds`` alternating calls."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = timer()
            fn()
            best[i] = min(best[i], timer() - t0)
    return best


@pytest.mark.parametrize("name", list(RELEASE))
@pytest.mark.benchmark(group="listen-1s-48k-batch16")
def test_listen_vs_release(benchmark, release, clock, name):
    timer, timer_name = clock
    enc = build_encoder(name, options={"random_init_seed": 0})
    theirs = _release_model(release.module, name)
    theirs.load_state_dict(enc.model.state_dict(), strict=True)
    theirs.eval()
    clip_spec = _release_clip_frontend(release)
    batch = (0.1 * np.random.default_rng(0).standard_normal((BATCH, SR))).astype(np.float32)

    def release_spec(b: np.ndarray) -> torch.Tensor:
        return torch.stack([clip_spec(audio) for audio in b])

    def release_embed(b: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return theirs(release_spec(b)).numpy()

    with torch.inference_mode():  # same spectrogram (to float rounding), same network function
        spec = enc.spectrogram(batch)
        np.testing.assert_allclose(release_spec(batch).numpy(), spec.numpy(), atol=1e-4)
        np.testing.assert_allclose(enc.model(spec).numpy(), theirs(spec).numpy(), rtol=1e-4, atol=1e-4)
    enc.embed(batch)  # warm-up
    release_embed(batch)

    ours_t: list[float] = []
    theirs_t: list[float] = []

    def our_embed(b: np.ndarray) -> np.ndarray:
        t0 = timer()
        with torch.inference_mode():
            out = enc.embed(b)
        ours_t.append(timer() - t0)
        return out

    def release_round():  # pedantic's untimed setup: one release round right before each of ours
        t0 = timer()
        release_embed(batch)
        theirs_t.append(timer() - t0)
        return (batch,), {}

    benchmark.pedantic(our_embed, setup=release_round, rounds=ROUNDS, iterations=1)
    with torch.inference_mode():
        fe_ours, fe_ours_clip, fe_rel = _interleaved_min(
            timer, lambda: enc.spectrogram(batch), lambda: [enc.spectrogram(batch[i:i + 1]) for i in range(BATCH)],
            lambda: release_spec(batch))
        net_ours, net_rel = _interleaved_min(timer, lambda: enc.model(spec), lambda: theirs(spec))

    r = RESULTS[name] = {"ours": BATCH / min(ours_t), "release": BATCH / min(theirs_t)}
    r["ratio"] = r["ours"] / r["release"]
    benchmark.extra_info.update({"clips_per_s_ours": r["ours"], "clips_per_s_release": r["release"],
                                 "ratio": r["ratio"], "clock": timer_name, "threads": THREADS,
                                 "release_frontend": release.label})
    if len(RESULTS) == 1:
        print(f"\n{THREADS} torch thread(s), clips/s from min {timer_name} of {ROUNDS} interleaved rounds; "
              f"parts in ms per batch of {BATCH}")
        print(f"{'encoder':<18} {'ours':>7} {'release':>7} {'ratio':>6} | front end: ours, ours per clip, release "
              f"| network: ours, release | RPi4 ms/sample (README, context only)")
    print(f"\n{name:<18} {r['ours']:7.1f} {r['release']:7.1f} {r['ratio']:6.2f} | {1e3 * fe_ours:9.1f} "
          f"{1e3 * fe_ours_clip:9.1f} {1e3 * fe_rel:9.1f} | {1e3 * net_ours:9.1f} {1e3 * net_rel:9.1f} "
          f"| {RELEASE[name][1]}")
    assert r["ratio"] >= MIN_RATIO, (f"{name}: ours {r['ours']:.1f} clips/s vs release {r['release']:.1f} "
                                     f"({r['ratio']:.2f}x < {MIN_RATIO})")
