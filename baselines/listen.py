"""Adapters for the LISTEN release's encoders: ``listen``, ``bc-resnet-3``, ``mobilevit-xxs``,
``mobilenetv4-small``, and its trained downstream heads.

Pipeline of the release's inference code (github.com/hanprd/LISTEN ``LISTEN_test_downstream.py``,
``WavInferenceDataset`` + ``DistillConfig``), on a waveform the suite has already cut to 1 s at
48 kHz and RMS + z-score normalised (the release does that in its dataset; the suite
``listen-onsite`` does it with ``waveform_norm: rms-zscore-ddof1``):

1. ``torchaudio.transforms.MelSpectrogram(48000, 2048, 2048, 376, 128, power=2.)``. The fifth
   positional parameter of that class is **f_min**, not n_mels: the release's spectrogram starts at
   **128 Hz** (n_mels keeps its default, 128). ``f_min`` is an option here (default 128, the
   release's behaviour, with which the released weights were trained and the released logs made).
2. ``AmplitudeToDB("power", top_db=80)``, clamped per clip; first 128 frames; ``(dB + 80) / 160``.
3. the network (:mod:`impact_bench.baselines.listen_nets`), frozen, eval mode.

Frames (``embed_frames``), in the sample clock of the 1-s clip (STFT frame k centred at sample k · 376):

- ``listen``: the 8 × 8 patch tokens (rows = mel, ``DistillModel`` conv 16 × 16) averaged over the mel
  rows of each time column: 8 frames, hop 16 × 376 samples = 125.33 ms, column j centred at frame 16j + 7.5;
- ``bc-resnet-3``: the last feature map (after the head's 5 × 5 valid depthwise and 1 × 1 convs; no
  time stride anywhere) averaged over frequency, then the head's Linear: 124 frames, hop 376 samples =
  7.83 ms, frame t centred at spectrogram frame t + 2;
- ``mobilevit-xxs`` / ``mobilenetv4-small``: the last feature map (4 × 4 after five stride-2 stages)
  averaged over frequency, then the head's Linear: 4 frames, hop 32 × 376 samples = 250.67 ms, column
  j centred at frame 32j (the receptive-field centre of k3/k5, stride-2, "same"-padded convs).

Every clip embedding is the mean of its frames: the heads are global average pools followed by
a Linear (students), or the token mean (LISTEN), and both commute with the regrouping.

Weights load strictly with ``torch.load(weights_only=True)``: the release's ``Models/<name>.pth``
are plain state dicts. (The release itself loads ``LISTEN.pth`` with ``strict=False``; its file has
exactly the model's 31 keys, so nothing is lost by loading strictly.)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from impact_bench.baselines.listen_nets import ARCHITECTURES, LISTEN_DIM, STUDENT_DIM
from impact_bench.listen_head import ListenHead
from impact_bench.cache import file_sha256
from impact_bench.checkpoints import CheckpointError, load_state_strict, read_checkpoint
from impact_bench.errors import EncoderError
from impact_bench.features import MelSpectrogram, power_to_db

SR, CLIP = 48_000, 48_000                   # DistillConfig sr, sample_len
N_FFT, HOP, N_MELS, TOP_DB = 2048, 376, 128, 80.0  # DistillConfig n_fft = win_length, hop_length, n_mels, top_db
RELEASE_F_MIN = 128.0                       # n_mels passed positionally into MelSpectrogram's f_min slot
FRAMES = 128                                # spec[:, :128]
RELEASE_FILES = {"listen": "LISTEN", "bc-resnet-3": "BC-ResNet-3", "mobilevit-xxs": "MobileViT-XXS",
                 "mobilenetv4-small": "MobileNetV4-Small"}  # Models/<stem>.pth, Models/<stem>-classifier.pth
WAVEFORM_NORM = "rms-zscore-ddof1"          # what the release's datasets apply before the front end


class ListenFrontend(torch.nn.Module):
    """(B, 48000) normalised waveforms → (B, 1, 128, 128) spectrograms scaled to about [0, 1]."""

    def __init__(self, f_min: float = RELEASE_F_MIN) -> None:
        super().__init__()
        self.mel = MelSpectrogram(SR, N_FFT, HOP, N_MELS, win_length=N_FFT, f_min=float(f_min), f_max=SR / 2,
                                  power=2.0)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        db = power_to_db(self.mel(wave.float()), top_db=TOP_DB)[..., :FRAMES]
        return ((db + TOP_DB) / (2 * TOP_DB)).unsqueeze(1)


def _state_dict(path: Path, trust: bool) -> dict[str, torch.Tensor]:
    state = read_checkpoint(path, trust)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a plain state dict of tensors, as the release's Models/*.pth")
    return state


def load_head(path: str | Path, input_dim: int, num_classes: int | None = None,
              trust: bool = False) -> ListenHead:
    """A release ``Models/<name>-classifier.pth`` (``AudioClassifier``) loaded strictly, eval mode."""
    path = Path(path)
    state = _state_dict(path, trust)
    if "layer3.weight" not in state:
        raise CheckpointError(f"{path}: not an AudioClassifier state dict (no layer3.weight)")
    classes = int(state["layer3.weight"].shape[0])
    if num_classes is not None and classes != num_classes:
        raise CheckpointError(f"{path}: head has {classes} outputs; the suite has {num_classes} classes")
    head = ListenHead(input_dim, classes)
    load_state_strict(head, state, path, f"LISTEN AudioClassifier head (input {input_dim}-d)")
    return head.eval()


class _ListenFamilyEncoder:
    """One frozen release network behind the release's front end; subclasses name the architecture."""

    arch = ""
    name = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.arch  # the registered encoder name is the architecture's
    version = "1"
    sample_rate = SR
    min_input_seconds = 1.0
    max_input_seconds = 1.0
    input_waveform_norm = WAVEFORM_NORM

    def __init__(self, checkpoint: str | None = None, device: str = "cpu", f_min: float = RELEASE_F_MIN,
                 trust_checkpoint: bool = False, random_init_seed: int | None = None) -> None:
        stem = RELEASE_FILES[self.arch]
        if checkpoint is None and random_init_seed is None:
            raise EncoderError(f"encoder {self.arch!r} needs the release's weights: --checkpoint "
                               f"LISTEN/Models/{stem}.pth (github.com/hanprd/LISTEN), or set "
                               f"$IMPACT_BENCH_LISTEN_ROOT to a clone; --encoder-opt random_init_seed=0 for an "
                               f"untrained network")
        with torch.random.fork_rng(devices=[]):  # module construction draws; the caller's RNG stays untouched
            torch.manual_seed(0 if random_init_seed is None else int(random_init_seed))
            self.model = ARCHITECTURES[self.arch]()
        self.checkpoint_sha256 = None
        if checkpoint is not None and random_init_seed is None:
            path = Path(checkpoint)
            load_state_strict(self.model, _state_dict(path, trust_checkpoint), path, f"{stem} network (release layout)")
            self.checkpoint_sha256 = file_sha256(path)
        self.device = torch.device(device)
        self.model.eval().to(self.device)
        self.frontend = ListenFrontend(f_min).to(self.device)
        self.config = {"checkpoint_file": None if checkpoint is None or random_init_seed is not None
                       else Path(checkpoint).name, "f_min_hz": float(f_min),
                       "random_init_seed": random_init_seed,
                       "frontend": f"mel 48 kHz n_fft {N_FFT} hop {HOP} {N_MELS} mels f_min {float(f_min):g} Hz, "
                                   f"dB top_db {TOP_DB:g}, first {FRAMES} frames, (dB+80)/160"}

    def spectrogram(self, batch: np.ndarray) -> torch.Tensor:
        """One clip at a time, as the release's dataset does: bit-identical to a batched call, and ~2x
        faster on CPU (a 16-clip STFT's temporaries overflow the cache and fault pages on every call;
        benchmarks/README.md)."""
        x = torch.as_tensor(np.asarray(batch, dtype=np.float32), device=self.device)
        return torch.cat([self.frontend(x[i:i + 1]) for i in range(x.shape[0])])

    def embed(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.model(self.spectrogram(batch)).float().cpu().numpy()

    @property
    def frame_embedding_dim(self) -> int:
        return self.embedding_dim

    @property
    def frame_hop_ms(self) -> float:
        return 1000.0 * FRAME_GEOMETRY[self.arch][0] * HOP / SR

    def embed_frames(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, 48000) → (B, F, embedding_dim) frames over time; see the module docstring."""
        with torch.inference_mode():
            frames = time_frames(self.arch, self.model, self.spectrogram(batch)).float().cpu().numpy()
        step, first = FRAME_GEOMETRY[self.arch]
        centres = (first + step * np.arange(frames.shape[1], dtype=np.float64)) * HOP  # samples
        return frames, 1000.0 * centres / SR


# arch: (spectrogram frames between consecutive output frames, centre of output frame 0 in spectrogram frames)
FRAME_GEOMETRY: dict[str, tuple[int, float]] = {
    "listen": (16, 7.5), "bc-resnet-3": (1, 2.0), "mobilevit-xxs": (32, 0.0), "mobilenetv4-small": (32, 0.0),
}


def time_frames(arch: str, model: torch.nn.Module, spec: torch.Tensor) -> torch.Tensor:
    """The network's last time-resolved features averaged over frequency → (B, F, embedding_dim).
    Spectrograms are (B, 1, mel, frame): frequency is axis 2 of every feature map."""
    if arch == "listen":
        tokens = model.tokens(spec)  # (B, rows · cols, D), row-major over (mel patch, frame patch)
        cols = spec.shape[-1] // model.conv1.kernel_size[1]
        return tokens.reshape(tokens.shape[0], -1, cols, tokens.shape[-1]).mean(dim=1)
    if arch == "bc-resnet-3":
        x = model.stem(spec)
        for stage in model.stages:
            x = stage(x)
        fmap, linear = model.head[1](model.head[0](x)), model.head[4]  # dw 5x5 valid, 1x1 | pool, flatten | Linear
    elif arch == "mobilevit-xxs":
        x = model.stem(spec)
        for stage in (model.s1, model.s2, model.s3, model.s4, model.s5):
            x = stage(x)
        fmap, linear = model.head[2](model.head[1](model.head[0](x))), model.head[5]  # conv, BN, SiLU | pool | Linear
    elif arch == "mobilenetv4-small":
        fmap, linear = model.features(spec), model.head[2]  # pool, flatten | Linear
    else:
        raise ValueError(f"no frame layout for {arch!r}")
    return linear(fmap.mean(dim=2).transpose(1, 2))


class ListenEncoder(_ListenFamilyEncoder):
    arch, embedding_dim = "listen", LISTEN_DIM


class BCResNet3Encoder(_ListenFamilyEncoder):
    arch, embedding_dim = "bc-resnet-3", STUDENT_DIM


class MobileViTXXSEncoder(_ListenFamilyEncoder):
    arch, embedding_dim = "mobilevit-xxs", STUDENT_DIM


class MobileNetV4SmallEncoder(_ListenFamilyEncoder):
    arch, embedding_dim = "mobilenetv4-small", STUDENT_DIM
