"""``vggish``: VGGish (AudioSet) in plain torch, torchvggish's ``.pth`` layout, TensorFlow's embedding.

Sources: tensorflow/models ``research/audioset/vggish``; harritaylor/torchvggish.
Front end (``vggish_input.py`` / ``mel_features.py``, computed in float64 as NumPy does there): 16 kHz
mono → frames of 400 samples every 160 (complete frames only) → periodic Hann → |rFFT| at 512 points
(magnitude) → 64 HTK-mel bands 125–7500 Hz (triangles in mel over linearly spaced bins, DC row zero,
no area normalisation) → log(x + 0.01) → non-overlapping 96 × 64 examples (0.96 s; leftover frames
dropped). Network: VGG (``features.{0,3,6,8,11,13}``, ``embeddings.{0,2,4}``), NHWC flatten order.

The TF model's 128-d embedding is pre-activation; torchvggish appends a ReLU — off here
(``final_relu=true`` reproduces torchvggish). Embedding: mean over the clip's examples. Clips shorter
than 0.975 s yield no example in the official code; the harness zero-pads them to 0.975 s
(``min_input_seconds``). PCA whitening + 8-bit quantisation (``postprocess``) is optional, off by default.
Smoke check with the released weights (TF ``vggish_smoke_test.py``): a 3-s 1-kHz sine gives 3 examples with
raw embedding mean ≈ 0.000657 and std ≈ 0.343 (``tests/test_vggish.py`` runs it when
``IMPACT_BENCH_VGGISH_CHECKPOINT`` points at the file).
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from impact_bench.cache import file_sha256
from impact_bench.checkpoints import CheckpointError, load_state_strict, read_checkpoint
from impact_bench.errors import EncoderError

SR = 16000                      # vggish_params.SAMPLE_RATE
WINDOW, HOP, FFT = 400, 160, 512  # round(0.025·SR), round(0.010·SR), next power of two
MEL_BANDS, MEL_LOW, MEL_HIGH = 64, 125.0, 7500.0
LOG_OFFSET = 0.01
EXAMPLE_FRAMES = 96             # EXAMPLE_WINDOW_SECONDS = EXAMPLE_HOP_SECONDS = 0.96
MIN_SAMPLES = WINDOW + (EXAMPLE_FRAMES - 1) * HOP  # 15,600: one complete example
QUANT_MIN, QUANT_MAX = -2.0, 2.0  # vggish_params.QUANTIZE_{MIN,MAX}_VAL


def hertz_to_mel(f: np.ndarray | float) -> np.ndarray | float:
    return 1127.0 * np.log(1.0 + np.asarray(f) / 700.0)


@lru_cache(maxsize=1)
def mel_matrix() -> torch.Tensor:
    """(257, 64) float64 weights, as ``mel_features.spectrogram_to_mel_matrix``."""
    bins = FFT // 2 + 1
    spec_mel = hertz_to_mel(np.linspace(0.0, SR / 2, bins))
    edges = np.linspace(hertz_to_mel(MEL_LOW), hertz_to_mel(MEL_HIGH), MEL_BANDS + 2)
    lower = (spec_mel[:, None] - edges[None, :-2]) / (edges[1:-1] - edges[:-2])
    upper = (edges[None, 2:] - spec_mel[:, None]) / (edges[2:] - edges[1:-1])
    w = np.maximum(0.0, np.minimum(lower, upper))
    w[0, :] = 0.0  # HTK excludes the DC bin
    return torch.from_numpy(w)


@lru_cache(maxsize=1)
def periodic_hann() -> torch.Tensor:
    """``mel_features.periodic_hann(400)``, float64."""
    return 0.5 - 0.5 * torch.cos(2 * math.pi / WINDOW * torch.arange(WINDOW, dtype=torch.float64))


def examples(wave: torch.Tensor) -> torch.Tensor:
    """(N,) waveform → (n_examples, 96, 64) float64 log-mel examples."""
    x = wave.to(torch.float64)
    if x.shape[-1] < WINDOW:
        return x.new_zeros((0, EXAMPLE_FRAMES, MEL_BANDS))
    frames = x.unfold(-1, WINDOW, HOP)
    mag = torch.fft.rfft(frames * periodic_hann(), n=FFT).abs()
    log_mel = torch.log(mag @ mel_matrix() + LOG_OFFSET)
    n = (log_mel.shape[0] - EXAMPLE_FRAMES) // EXAMPLE_FRAMES + 1 if log_mel.shape[0] >= EXAMPLE_FRAMES else 0
    return log_mel[: n * EXAMPLE_FRAMES].reshape(n, EXAMPLE_FRAMES, MEL_BANDS)


class VGGish(nn.Module):
    """torchvggish's ``VGG`` with its parameter names; ``final_relu`` as torchvggish, off as TF."""

    def __init__(self, final_relu: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for v in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M"):
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, int(v), 3, padding=1), nn.ReLU()]
                channels = int(v)
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(nn.Linear(512 * 4 * 6, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
                                        nn.Linear(4096, 128))
        self.final_relu = final_relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(n, 1, 96, 64) → (n, 128)."""
        x = self.features(x).permute(0, 2, 3, 1).flatten(1)  # NHWC flatten, as the TF graph
        x = self.embeddings(x)
        return torch.relu(x) if self.final_relu else x


def _numpy_globals() -> list:
    core = getattr(np, "_core", np.core)
    return [core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype("float64")), type(np.dtype("float32"))]


def load_pca(path: Path, trust: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(eigen_vectors (128, 128), means (128,)) from the TF ``.npz`` or torchvggish's PCA ``.pth``."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            if not {"pca_eigen_vectors", "pca_means"} <= set(z.files):
                raise CheckpointError(f"{path}: expected arrays pca_eigen_vectors and pca_means, found {z.files}")
            vec, mean = z["pca_eigen_vectors"], z["pca_means"]
    else:
        obj = read_checkpoint(path, trust, _numpy_globals())
        if not isinstance(obj, dict) or not {"pca_eigen_vectors", "pca_means"} <= set(obj):
            raise CheckpointError(f"{path}: expected a dict with pca_eigen_vectors and pca_means")
        vec, mean = np.asarray(obj["pca_eigen_vectors"]), np.asarray(obj["pca_means"])
    if vec.shape != (128, 128) or mean.reshape(-1).shape != (128,):
        raise CheckpointError(f"{path}: PCA shapes {vec.shape} / {mean.shape}, expected (128, 128) / (128,)")
    return torch.as_tensor(vec, dtype=torch.float32), torch.as_tensor(mean.reshape(-1), dtype=torch.float32)


def postprocess(emb: torch.Tensor, vec: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """PCA whitening, clip to [-2, 2], 8-bit quantisation (``vggish_postprocess.Postprocessor``)."""
    x = torch.clamp((emb - mean) @ vec.T, QUANT_MIN, QUANT_MAX)
    return torch.round((x - QUANT_MIN) * (255.0 / (QUANT_MAX - QUANT_MIN)))


class VggishEncoder:
    """Frozen VGGish: mean over 0.96-s examples of the 128-d embedding."""

    name = "vggish"
    version = "1"
    sample_rate = SR
    embedding_dim = 128
    min_input_seconds = MIN_SAMPLES / SR  # 0.975 s: one complete example
    max_input_seconds: float | None = None

    def __init__(self, checkpoint: str | None = None, device: str = "cpu", trust_checkpoint: bool = False,
                 final_relu: bool = False, pca: str | None = None) -> None:
        if checkpoint is None:
            raise EncoderError("encoder 'vggish' needs the torchvggish weights: --checkpoint vggish-10086976.pth "
                               "(github.com/harritaylor/torchvggish releases v0.1); `impact-bench weights` shows "
                               "where files are looked for")
        path = Path(checkpoint)
        state = read_checkpoint(path, trust_checkpoint)
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise CheckpointError(f"{path}: expected torchvggish's plain state dict of tensors")
        self.model = VGGish(final_relu=bool(final_relu))
        load_state_strict(self.model, state, path, "VGGish network (torchvggish layout)")
        self.device = torch.device(device)
        self.model.eval().to(self.device)
        self.pca = load_pca(Path(pca), trust_checkpoint) if pca else None
        self.checkpoint_sha256 = file_sha256(path)
        self.config = {"checkpoint_file": path.name, "final_relu": bool(final_relu),
                       "postprocess": None if pca is None else Path(pca).name, "pooling": "mean over 0.96-s examples"}

    def embed(self, batch: np.ndarray) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for wave in torch.as_tensor(np.asarray(batch, dtype=np.float32)):
                ex = examples(wave)
                if len(ex) == 0:
                    raise EncoderError(f"vggish: a clip needs ≥ {MIN_SAMPLES} samples at 16 kHz for one example, "
                                       f"got {wave.shape[-1]}")
                emb = self.model(ex.float().unsqueeze(1).to(self.device)).float().cpu()
                if self.pca is not None:
                    emb = postprocess(emb, *self.pca)
                out.append(emb.mean(dim=0))
        return torch.stack(out).numpy()
