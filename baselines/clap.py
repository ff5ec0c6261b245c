"""``clap``: LAION-CLAP audio branch (HTS-AT + projection) for the 630k checkpoints, offline, no text tower.

Source: LAION-AI/CLAP ``hook.py``, ``training/data.py``, ``clap_module/htsat.py``.
Per clip at 48 kHz: int16 round trip (clip to ±1, ×32767, truncate, ÷32767) → shorter than 10 s: repeated
``int(480000 / n)`` times, then zero-padded to 480,000 samples ("repeatpad"). Longer clips are cut to the
first 10 s by the harness (``max_input_seconds``; the official non-fusion path takes a *random* 10-s crop and
the fusion path random chunks, neither deterministic). Mel front end:
- non-fusion files: torchlibrosa inside the model — the stored DFT kernels (n_fft 1024, hop 480, centred,
  reflect) and the stored Slaney ``melW``, 10·log10(max(x, 1e-10)) → (1001, 64);
- fusion files (``630k*-fusion-best.pt``): torchaudio MelSpectrogram in the data pipeline (HTK, no norm,
  50–14000 Hz, reflect) and AmplitudeToDB; for clips ≤ 10 s only channel 0 is used (``longer`` False), so
  the fusion convolution and AFF block are loaded but not run.
Then HTS-AT latent (768-d tiny, 1024-d base) → ``audio_projection`` (Linear → ReLU → Linear, 512) →
L2 normalisation (``get_audio_embedding_*``). ``embedding=latent`` returns the pre-projection latent instead.
Checkpoint: ``state_dict`` with ``module.`` prefixes; ``audio_branch.*`` and ``audio_projection.*`` are loaded
strictly, the text tower and other heads are dropped explicitly (counted in the results).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from impact_bench.baselines.htsat import HTSAT, check_buffers, config_from_state
from impact_bench.cache import file_sha256
from impact_bench.checkpoints import CheckpointError, load_state_strict, numpy_scalar_globals, read_checkpoint
from impact_bench.errors import EncoderError
from impact_bench.features import mel_filterbank

SR, MAX_LEN = 48000, 480000        # audio_cfg sample_rate; 10-s clips
N_FFT, HOP, F_MIN, F_MAX = 1024, 480, 50.0, 14000.0  # audio_cfg window_size, hop_size, fmin, fmax
KEEP = ("audio_branch.", "audio_projection.")


def int16_round_trip(x: torch.Tensor) -> torch.Tensor:
    q = (torch.clamp(x, -1.0, 1.0) * 32767.0).to(torch.int16)  # float32_to_int16: truncation toward zero
    return (q.to(torch.float64) / 32767.0).to(torch.float32)     # int16_to_float32 (NumPy float64, then cast)


def repeat_pad(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[-1]
    if n >= MAX_LEN:
        return x[:MAX_LEN]
    x = x.repeat(MAX_LEN // n)
    return F.pad(x, (0, MAX_LEN - x.shape[-1]))


class ClapAudio(nn.Module):
    def __init__(self, branch: HTSAT, out_dim: int) -> None:
        super().__init__()
        self.audio_branch = branch
        width = branch.cfg.num_features
        self.audio_projection = nn.Sequential(nn.Linear(width, out_dim), nn.ReLU(), nn.Linear(out_dim, out_dim))
        # fusion files: the data pipeline's HTK filterbank, built once (not a checkpoint tensor)
        self.htk_bank = mel_filterbank(N_FFT // 2 + 1, F_MIN, F_MAX, branch.cfg.mel_bins, SR) if branch.cfg.fusion else None

    def mel(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, 480000) → (B, 1001, 64) log-mel as the checkpoint's pipeline computes it."""
        if self.audio_branch.cfg.fusion:
            spec = torch.stft(wave, N_FFT, HOP, window=torch.hann_window(N_FFT, device=wave.device), center=True,
                              pad_mode="reflect", return_complex=True).abs().pow(2).transpose(1, 2)
            return 10 * torch.log10(torch.clamp(spec @ self.htk_bank.to(spec), min=1e-10))
        power = self.audio_branch.stft_power(wave, HOP)
        return 10 * torch.log10(torch.clamp(power @ self.audio_branch.logmel_extractor.melW, min=1e-10))


def load_clap(path: Path, trust: bool) -> tuple[ClapAudio, dict[str, int]]:
    obj = read_checkpoint(path, trust, numpy_scalar_globals())
    state = obj.get("state_dict", obj) if isinstance(obj, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a LAION-CLAP checkpoint (a dict with 'state_dict')")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    audio = {k: v for k, v in state.items() if k.startswith(KEEP)}
    if "audio_branch.patch_embed.proj.weight" not in audio:
        raise CheckpointError(f"{path}: no audio_branch.* HTS-AT weights; first keys: {list(state)[:6]}")
    try:
        cfg = config_from_state(audio, "audio_branch.")
    except KeyError as exc:
        raise CheckpointError(f"{path}: incomplete HTS-AT audio branch, missing {exc}") from None
    model = ClapAudio(HTSAT(cfg), int(audio["audio_projection.2.weight"].shape[0]))
    try:
        check_buffers(model.audio_branch, {k.removeprefix("audio_branch."): v for k, v in audio.items()}, str(path))
    except ValueError as exc:
        raise CheckpointError(str(exc)) from None
    load_state_strict(model, audio, path, f"CLAP audio branch (HTS-AT {cfg.embed_dim}-d, depths {cfg.depths}, "
                                          f"fusion={cfg.fusion}) + projection")
    return model.eval(), {"dropped_keys": len(state) - len(audio)}


class ClapEncoder:
    """Frozen LAION-CLAP audio embedding (512-d, unit length)."""

    name = "clap"
    version = "1"
    sample_rate = SR
    min_input_seconds = 0.01
    max_input_seconds: float | None = 10.0  # longer clips: the harness cuts (or windows) to 10 s

    def __init__(self, checkpoint: str | None = None, device: str = "cpu", trust_checkpoint: bool = False,
                 embedding: str = "projected") -> None:
        if checkpoint is None:
            raise EncoderError("encoder 'clap' needs a LAION-CLAP 630k checkpoint: --checkpoint FILE, e.g. "
                               "630k-audioset-best.pt (Hugging Face lukewys/laion_clap)")
        if embedding not in ("projected", "latent"):
            raise EncoderError(f"clap: embedding must be 'projected' or 'latent', got {embedding!r}")
        path = Path(checkpoint)
        self.model, info = load_clap(path, trust_checkpoint)
        self.device = torch.device(device)
        self.model.to(self.device)
        cfg = self.model.audio_branch.cfg
        self.projected = embedding == "projected"
        self.embedding_dim = int(self.model.audio_projection[2].weight.shape[0]) if self.projected else cfg.num_features
        self.checkpoint_sha256 = file_sha256(path)
        self.config = {"checkpoint_file": path.name, "fusion": cfg.fusion, "width": cfg.embed_dim,
                       "depths": list(cfg.depths), "embedding": embedding, **info}

    def embed(self, batch: np.ndarray) -> np.ndarray:
        wave = torch.as_tensor(np.asarray(batch, dtype=np.float32))
        wave = torch.stack([repeat_pad(int16_round_trip(w)) for w in wave]).to(self.device)
        with torch.inference_mode():
            latent = self.model.audio_branch.latent(self.model.mel(wave))
            out = F.normalize(self.model.audio_projection(latent), dim=-1) if self.projected else latent
        return out.float().cpu().numpy()
