"""``opera-gt`` / ``opera-ct``: OPERA's respiratory encoders (evelyn0414/OPERA) on their official input.

Source: evelyn0414/OPERA ``src/util.py``,
``src/benchmark/model_util.py::extract_opera_feature``. Per clip at 16 kHz (librosa semantics, written here
in NumPy/torch — librosa is not a dependency):
1. trim leading/trailing silence: frame RMS (1600-sample frames, hop 800, centred, zero padding) in dB
   relative to the loudest frame; frames above −60 dB are kept (``librosa.effects.trim``);
2. cut into 8.18-s chunks (130,880 samples, hop half of that) plus a last chunk; every chunk shorter than
   8.18 s is repeat-padded *in front* with the tail of the (repeated) clip — OPERA reseeds Python's
   ``random`` with 7456 before a coin flip that always comes out "front" (we do not touch ``random``);
3. mel: |STFT|² (n_fft 1024, hop 512, periodic Hann, centred with zero padding), 64 Slaney mels
   50–8000 Hz (Slaney-normalised), dB re the maximum (amin 1e-10, top_db 80), min–max to [0, 1] per chunk;
   (T, 64) with T = 256 per full chunk;
4. ViT-S/4 (``mae_vit_small``: 4 × 4 patches → 1024 tokens, 384-d, 12 blocks, 6 heads), positional table
   from the checkpoint (sliced for shorter chunks); embedding ``norm(mean of patch tokens)`` — mean first,
   then LayerNorm — 384-d; chunks with < 16 frames skipped; chunk embeddings averaged.
Checkpoint: Lightning ``encoder-operaGT.ckpt``, weights in ``state_dict`` (un-prefixed MAE keys); the MAE
decoder keys are dropped explicitly and the encoder keys loaded strictly (OPERA's own loader is strict=False).

OPERA-CT (``Cola(encoder="htsat")``, ``get_entire_signal_librosa(pad=True, input_sec=8)``): the trimmed clip
whole — front repeat-padded to 8 s when shorter — as one mel image (T = 251 for 8 s) → HTS-AT tiny → latent
mean, 768-d. Keys ``encoder.encoder.htsat.*`` are loaded strictly after stripping that prefix; Cola's
projection heads (``g``, ``layer_norm``, ``linear``, ``middle``) are dropped explicitly.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from impact_bench.baselines.htsat import HTSAT, check_buffers, config_from_state
from impact_bench.baselines.vit import ViT
from impact_bench.cache import file_sha256
from impact_bench.checkpoints import CheckpointError, load_state_strict, numpy_scalar_globals, read_checkpoint
from impact_bench.errors import EncoderError

SR = 16000
TRIM_FRAME, TRIM_HOP, TOP_DB = 1600, 800, 60.0   # get_split_signal_librosa: FRAME_LEN = sr/10, HOP = FRAME_LEN/2
GT_SECONDS = 8.18                                # benchmark input_sec for OPERA-GT (256 frames)
N_FFT, HOP, N_MELS, F_MIN, F_MAX = 1024, 512, 64, 50.0, 8000.0  # pre_process_audio_mel_t(f_max=8000)
MIN_FRAMES = 16                                  # extract_opera_feature: x.shape[0] >= 16
CT_SECONDS = 8.0                                 # benchmark --min_len_htsat default
CT_PREFIX = "encoder.encoder.htsat."             # Cola → EncoderHTSAT → HTSATWrapper → htsat
CT_HEADS = ("g.", "layer_norm.", "linear.", "middle.")  # Cola projection heads, unused for dim=768 features


def trim(y: np.ndarray) -> np.ndarray:
    """``librosa.effects.trim(y, top_db=60, frame_length=1600, hop_length=800)`` (ref = loudest frame)."""
    pad = np.pad(y.astype(np.float64), TRIM_FRAME // 2)
    n = 1 + (len(pad) - TRIM_FRAME) // TRIM_HOP
    idx = np.arange(TRIM_FRAME)[None, :] + TRIM_HOP * np.arange(n)[:, None]
    power = np.mean(pad[idx] ** 2, axis=1)
    db = 10 * np.log10(np.maximum(1e-10, power)) - 10 * np.log10(np.maximum(1e-10, power.max()))
    keep = np.flatnonzero(db > -TOP_DB)
    if keep.size == 0:
        return y[:0]
    return y[int(keep[0]) * TRIM_HOP: min(len(y), int(keep[-1] + 1) * TRIM_HOP)]


def _front_pad(source: np.ndarray, pool: np.ndarray, length: int) -> np.ndarray:
    """``_duplicate_padding(..., 'repeat')`` with the front branch OPERA's fixed seed always takes."""
    left = length - len(source)
    aug = pool
    while len(aug) < left:
        aug = np.concatenate([aug, aug])
    return np.concatenate([aug[len(aug) - left:], source]).astype(np.float32)


def chunks(y: np.ndarray, seconds: float = GT_SECONDS) -> list[np.ndarray]:
    """``split_pad_sample(types='repeat')``: 50 %-overlap windows, then the padded remainder."""
    length = int(seconds * SR)
    if len(y) == 0:
        raise EncoderError("opera: the clip is empty after silence trimming (OPERA would loop forever padding it)")
    if len(y) <= length:
        return [_front_pad(y, y, length)]
    hop = length // 2
    n = 1 + (len(y) - length) // hop
    out = [y[i * hop: i * hop + length].astype(np.float32) for i in range(n)]
    return out + [_front_pad(y[n * hop:], y, length)]


def _slaney_mel(f: np.ndarray) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    lin = f / (200.0 / 3)
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), lin)


def _slaney_hz(m: np.ndarray) -> np.ndarray:
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))


@lru_cache(maxsize=1)
def mel_basis() -> torch.Tensor:
    """(64, 513) ``librosa.filters.mel(sr=16000, n_fft=1024, n_mels=64, fmin=50, fmax=8000)`` (Slaney, norm)."""
    fft_freqs = np.linspace(0, SR / 2, 1 + N_FFT // 2)
    mel_f = _slaney_hz(np.linspace(_slaney_mel(F_MIN), _slaney_mel(F_MAX), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    w = np.maximum(0, np.minimum(lower, upper)) * (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return torch.from_numpy(w.astype(np.float32))


def mel_image(chunk: np.ndarray) -> torch.Tensor:
    """``pre_process_audio_mel_t(chunk, f_max=8000)`` → (T, 64) in [0, 1]."""
    x = torch.from_numpy(np.asarray(chunk, dtype=np.float32))
    spec = torch.stft(x, N_FFT, HOP, window=torch.hann_window(N_FFT), center=True, pad_mode="constant",
                      return_complex=True).abs().pow(2)
    s = mel_basis() @ spec
    db = 10 * torch.log10(s.clamp_min(1e-10)) - 10 * torch.log10(s.max().clamp_min(1e-10))
    db = torch.maximum(db, db.max() - 80.0)
    if db.max() != db.min():
        db = (db - db.min()) / (db.max() - db.min())
    return db.T


def lightning_state(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    state = obj.get("state_dict") if isinstance(obj, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a Lightning checkpoint with 'state_dict'; got "
                              f"{sorted(obj)[:8] if isinstance(obj, dict) else type(obj).__name__}")
    return state


class OperaGTEncoder:
    """Frozen OPERA-GT: LayerNorm of the mean patch token, averaged over 8.18-s chunks."""

    name = "opera-gt"
    version = "1"
    sample_rate = SR
    min_input_seconds = 0.1
    max_input_seconds: float | None = None
    embedding_dim = 384

    def __init__(self, checkpoint: str | None = None, device: str = "cpu", trust_checkpoint: bool = False,
                 trim_silence: bool = True, num_heads: int = 6) -> None:
        if checkpoint is None:
            raise EncoderError("encoder 'opera-gt' needs encoder-operaGT.ckpt (Hugging Face evelyn0414/OPERA)")
        path = Path(checkpoint)
        state = lightning_state(read_checkpoint(path, trust_checkpoint, numpy_scalar_globals()), path)
        enc = {k: v for k, v in state.items() if not (k.startswith("decoder_") or k == "mask_token")}
        for key in ("cls_token", "pos_embed", "patch_embed.proj.weight"):
            if key not in enc:
                raise CheckpointError(f"{path}: no {key!r} in state_dict — not an OPERA-GT MAE checkpoint; "
                                      f"first keys: {list(state)[:6]}")
        dim = int(enc["cls_token"].shape[-1])
        depth = 1 + max(int(k.split(".")[1]) for k in enc if k.startswith("blocks."))
        self.model = ViT(patch=int(enc["patch_embed.proj.weight"].shape[-1]), dim=dim, depth=depth,
                         heads=int(num_heads), hidden=int(enc["blocks.0.mlp.fc1.weight"].shape[0]),
                         tokens=int(enc["pos_embed"].shape[1]) - 1)
        load_state_strict(self.model, enc, path, f"OPERA-GT ViT ({depth} blocks, {dim}-d)")
        self.device = torch.device(device)
        self.model.eval().to(self.device)
        self.embedding_dim = dim
        self.trim_silence = bool(trim_silence)
        self.checkpoint_sha256 = file_sha256(path)
        self.config = {"checkpoint_file": path.name, "trim_silence": self.trim_silence, "chunk_seconds": GT_SECONDS,
                       "num_heads": int(num_heads), "decoder_keys_dropped": len(state) - len(enc)}

    def embed_one(self, y: np.ndarray) -> np.ndarray:
        feats = []
        for c in chunks(trim(y) if self.trim_silence else y):
            img = mel_image(c)
            if img.shape[0] < MIN_FRAMES:
                continue
            with torch.inference_mode():
                tok = self.model.tokens(img[None, None].to(self.device), pos_slice=True)
                feats.append(self.model.norm(tok[:, 1:].mean(dim=1))[0].float().cpu().numpy())
        if not feats:
            raise EncoderError(f"opera-gt: no chunk with ≥ {MIN_FRAMES} mel frames")
        return np.mean(feats, axis=0)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        return np.stack([self.embed_one(np.asarray(y, dtype=np.float32)) for y in batch]).astype(np.float32)


class OperaCTEncoder:
    """Frozen OPERA-CT: HTS-AT latent of the whole trimmed clip (front repeat-padded to 8 s)."""

    name = "opera-ct"
    version = "1"
    sample_rate = SR
    min_input_seconds = 0.1
    max_input_seconds: float | None = 32.0  # ≤ 1024 mel frames: longer clips have no latent in OPERA's code

    def __init__(self, checkpoint: str | None = None, device: str = "cpu", trust_checkpoint: bool = False,
                 trim_silence: bool = True) -> None:
        if checkpoint is None:
            raise EncoderError("encoder 'opera-ct' needs encoder-operaCT.ckpt (Hugging Face evelyn0414/OPERA)")
        path = Path(checkpoint)
        state = lightning_state(read_checkpoint(path, trust_checkpoint, numpy_scalar_globals()), path)
        enc = {k[len(CT_PREFIX):]: v for k, v in state.items() if k.startswith(CT_PREFIX)}
        other = [k for k in state if not k.startswith(CT_PREFIX) and not k.startswith(CT_HEADS)]
        if not enc or other:
            raise CheckpointError(f"{path}: expected Cola keys {CT_PREFIX}* (+ projection heads {list(CT_HEADS)}); "
                                  + (f"unexpected: {other[:6]}" if other else f"first keys: {list(state)[:6]}"))
        try:
            self.model = HTSAT(config_from_state(enc))
            check_buffers(self.model, enc, str(path))
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"{path}: not an HTS-AT encoder under {CT_PREFIX}: {exc}") from None
        load_state_strict(self.model, enc, path, "OPERA-CT HTS-AT encoder")
        self.device = torch.device(device)
        self.model.eval().to(self.device)
        self.embedding_dim = self.model.cfg.num_features
        self.trim_silence = bool(trim_silence)
        self.checkpoint_sha256 = file_sha256(path)
        self.config = {"checkpoint_file": path.name, "trim_silence": self.trim_silence, "pad_seconds": CT_SECONDS,
                       "heads_dropped": len(state) - len(enc)}

    def embed_one(self, y: np.ndarray) -> np.ndarray:
        y = trim(y) if self.trim_silence else y
        if len(y) < int(CT_SECONDS * SR):
            y = chunks(y, CT_SECONDS)[0]
        with torch.inference_mode():
            return self.model.latent(mel_image(y)[None].to(self.device))[0].float().cpu().numpy()

    def embed(self, batch: np.ndarray) -> np.ndarray:
        return np.stack([self.embed_one(np.asarray(y, dtype=np.float32)) for y in batch]).astype(np.float32)
