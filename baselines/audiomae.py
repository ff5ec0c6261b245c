"""``audiomae`` / ``audiomae-ft``: AudioMAE ViT-B/16 (facebookresearch/AudioMAE) on its official input.

Source: facebookresearch/AudioMAE. Front end (``dataset.py::_wav2fbank``, eval): 16 kHz waveform minus
its mean → Kaldi fbank (hanning, 128 bins, 25/10 ms, no ×2^15) → zero-pad at the end in the log domain
(or cut) to ``target_length`` frames (1024 for AudioSet) → (x + 4.2677393) / (2·4.5689974), after padding.
Model input (B, 1, 1024, 128) → 64 × 8 patches; the positional table comes from the checkpoint.

Embeddings (768-d): pre-trained MAE encoder (``audiomae``): final ``norm`` then mean over patch tokens
(CLS excluded); fine-tuned (``audiomae-ft``, ``models_vit`` with global pool, also a user's DINOS
fine-tune): ``fc_norm`` of the mean of patch tokens; the classifier ``head`` is loaded, bypassed.
Frames (``embed_frames``): the patch tokens regrouped over time (token t·8 + f, time-major), the mean over
the 8 frequency patches of each time row — normed first (pre-trained: ``norm`` per token, as the clip
embedding) or after (fine-tuned: ``fc_norm`` of the row mean). Hop p × 10 ms = 160 ms; fbank frame k covers
samples [160k, 160k + 400), so row t is centred at 87.5 ms + 160 ms · t. Rows centred beyond the clip (the
official zero padding up to ``target_length``) are dropped; a clip longer than the model input
(10.255 s for 1024 frames) gets frames for its first ``target_length`` fbank frames only.
Checkpoints: ``ckpt['model']`` (``util/misc.save_model`` also stores ``args``, an ``argparse.Namespace``,
allowed for weights-only loading); MAE decoder keys (``decoder_*``, ``mask_token``) are dropped explicitly.
Width, depth, MLP size, patch and target length are read from the tensors; heads (12) cannot be.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import torch

from impact_bench.baselines.vit import ViT
from impact_bench.cache import file_sha256
from impact_bench.checkpoints import CheckpointError, load_state_strict, numpy_scalar_globals, read_checkpoint
from impact_bench.errors import EncoderError
from impact_bench.kaldi import FbankConfig, fbank

FBANK = FbankConfig(num_mel_bins=128, sample_frequency=16000, window_type="hanning", frame_shift=10)  # _wav2fbank
NORM_MEAN, NORM_STD = -4.2677393, 4.5689974  # AudioSet (dataset.py norm_mean/norm_std; ESC-50: -6.6268077, 5.358466)
MEL_BINS = 128


def is_decoder_key(key: str) -> bool:
    return key.startswith("decoder_") or key == "mask_token"


def features(wave: torch.Tensor, target_frames: int, mean: float = NORM_MEAN, std: float = NORM_STD) -> torch.Tensor:
    """(B, N) 16-kHz waveforms → (B, 1, target_frames, 128) normalised log-mel input."""
    fb = fbank(wave - wave.mean(dim=-1, keepdim=True), FBANK)
    n = fb.shape[1]
    fb = fb[:, :target_frames] if n >= target_frames else torch.nn.functional.pad(fb, (0, 0, 0, target_frames - n))
    return ((fb - mean) / (std * 2)).unsqueeze(1)


def build_from_state(state: dict[str, torch.Tensor], path: Path, num_heads: int) -> tuple[ViT, dict[str, Any]]:
    """A ViT shaped by the tensors (fine-tuned iff ``fc_norm`` is present), loaded strictly."""
    if "cls_token" not in state or "pos_embed" not in state or "patch_embed.proj.weight" not in state:
        raise CheckpointError(f"{path}: not an AudioMAE/timm ViT state dict (no cls_token / pos_embed / "
                              f"patch_embed.proj.weight); first keys: {list(state)[:6]}")
    encoder = {k: v for k, v in state.items() if not is_decoder_key(k)}
    dim = int(state["cls_token"].shape[-1])
    patch = int(state["patch_embed.proj.weight"].shape[-1])
    depth = 1 + max((int(k.split(".")[1]) for k in encoder if k.startswith("blocks.")), default=-1)
    if dim % num_heads:
        raise CheckpointError(f"{path}: width {dim} is not divisible by num_heads={num_heads}; pass --encoder-opt num_heads=N")
    finetuned = "fc_norm.weight" in encoder
    head = encoder.get("head.weight")
    model = ViT(patch=patch, dim=dim, depth=depth, heads=num_heads, hidden=int(state["blocks.0.mlp.fc1.weight"].shape[0]),
                tokens=int(state["pos_embed"].shape[1]) - 1, pooling_norm="fc_norm" if finetuned else "norm",
                num_classes=0 if head is None else int(head.shape[0]))
    kind = "fine-tuned (fc_norm)" if finetuned else "pre-trained MAE encoder (norm)"
    load_state_strict(model, encoder, path, f"AudioMAE ViT, {kind}, {depth} blocks, {dim}-d")
    freq_patches = MEL_BINS // patch
    info = {"variant": "finetuned" if finetuned else "pretrained", "depth": depth, "width": dim, "patch": patch,
            "target_frames": (model.pos_embed.shape[1] - 1) // freq_patches * patch,
            "decoder_keys_dropped": len(state) - len(encoder)}
    return model.eval(), info


class AudioMAEEncoder:
    """Frozen AudioMAE pre-trained encoder: mean of normed patch tokens."""

    name = "audiomae"
    variant = "pretrained"
    version = "1"
    sample_rate = 16000
    min_input_seconds = 0.025  # one 25-ms frame; shorter inputs are zero-padded to 1024 frames anyway
    max_input_seconds: float | None = None  # the front end keeps the first target_length frames, as the official one

    def __init__(self, checkpoint: str | None = None, device: str = "cpu", trust_checkpoint: bool = False,
                 num_heads: int = 12, norm_mean: float = NORM_MEAN, norm_std: float = NORM_STD) -> None:
        if checkpoint is None:
            raise EncoderError(f"encoder {self.name!r} needs AudioMAE weights: --checkpoint FILE (the "
                               f"{'fine-tuned' if self.variant == 'finetuned' else 'pre-trained'} ViT-B checkpoint "
                               "from the facebookresearch/AudioMAE README, CC BY-NC 4.0)")
        path = Path(checkpoint)
        obj = read_checkpoint(path, trust_checkpoint, [argparse.Namespace, *numpy_scalar_globals()])
        state = obj.get("model", obj) if isinstance(obj, dict) else None
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise CheckpointError(f"{path}: expected a dict with 'model' (a state dict), as AudioMAE's save_model writes")
        self.model, info = build_from_state(state, path, int(num_heads))
        if info["variant"] != self.variant:
            other = "audiomae-ft" if info["variant"] == "finetuned" else "audiomae"
            raise CheckpointError(f"{path}: a {info['variant']} AudioMAE checkpoint; use --encoder {other}")
        self.device = torch.device(device)
        self.model.to(self.device)
        self.embedding_dim = info["width"]
        self.norm = (float(norm_mean), float(norm_std))
        self.checkpoint_sha256 = file_sha256(path)
        self.config = {**info, "checkpoint_file": path.name, "num_heads": int(num_heads), "norm_mean": self.norm[0],
                       "norm_std": self.norm[1]}
        self.frame_embedding_dim = self.embedding_dim
        self.frame_hop_ms = float(info["patch"] * FBANK.frame_shift)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        wave = torch.as_tensor(np.asarray(batch, dtype=np.float32), device=self.device)
        with torch.inference_mode():
            x = self.model.tokens(features(wave, self.config["target_frames"], *self.norm))
            if self.variant == "finetuned":
                out = self.model.fc_norm(x[:, 1:].mean(dim=1))
            else:
                out = self.model.norm(x)[:, 1:].mean(dim=1)
        return out.float().cpu().numpy()


    def embed_frames(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, N) → (B, rows, 768) over time, rows centred inside the clip only."""
        wave = torch.as_tensor(np.asarray(batch, dtype=np.float32), device=self.device)
        p, target = self.config["patch"], self.config["target_frames"]
        rows, cols = target // p, MEL_BINS // p
        centres = (p * np.arange(rows, dtype=np.float64) + (p - 1) / 2) * FBANK.frame_shift + FBANK.frame_length / 2
        keep = int(np.searchsorted(centres, 1000.0 * wave.shape[-1] / self.sample_rate, side="right"))
        with torch.inference_mode():
            x = self.model.tokens(features(wave, target, *self.norm))[:, 1:]
            if self.variant == "finetuned":
                frames = self.model.fc_norm(x.reshape(x.shape[0], rows, cols, -1).mean(dim=2))
            else:
                frames = self.model.norm(x).reshape(x.shape[0], rows, cols, -1).mean(dim=2)
        return frames[:, :keep].float().cpu().numpy(), centres[:keep]


class AudioMAEFinetunedEncoder(AudioMAEEncoder):
    """Fine-tuned AudioMAE (AS-2M, or a user's DINOS fine-tune): fc_norm of the mean patch token."""

    name = "audiomae-ft"
    variant = "finetuned"
