"""``impact`` encoder adapter: last-layer CLS of a trained (or the authors') IMPACT checkpoint.

Frames (``embed_frames``): the last layer's patch tokens regrouped over time, the mean over the
frequency rows of each time column of the G × G grid (token index row · G + col, rows = mel,
``impact_bench.impact.model.PatchEmbed``). A column spans ``2 · patch_size`` spectrogram frames (stem
stride 2, then patch_size): 32 × 376 samples = 250.67 ms at the reference front end (hanprd/DINOS
``CNNEncoder``: Conv2d(1, 32, k3, s2, p1) then Conv2d(32, E, k16, s16); ``SpecConverter`` hop 376). Column j
is centred at spectrogram frame 2·p·j + p − 1 (the mean of the stem centres 2i it pools), frame k at
sample k · hop (centred STFT): 117.5 ms + j · 250.67 ms.
"""
from __future__ import annotations

import numpy as np
import torch

from impact_bench.cache import file_sha256
from impact_bench.errors import EncoderError
from impact_bench.impact.checkpoint import AUTHORS_FILE, load_encoder
from impact_bench.impact.config import preset as make_preset
from impact_bench.impact.model import ImpactEncoder, SpecFrontend

NO_CHECKPOINT = (
    "encoder 'impact' needs weights: --checkpoint FILE. Either train IMPACT yourself "
    "(`impact-bench train --preset reference --data DIR`, or `--synthetic` offline; checkpoints land in "
    "./impact-train/), or download the authors' checkpoint and pass it (their default name is "
    f"{AUTHORS_FILE}). For an untrained baseline use --encoder-opt random_init_seed=0.")


class ImpactAdapter:
    name = "impact"
    version = "1"
    min_input_seconds = 1.0  # the model sees exactly one 1-s, 48 kHz clip (128 x 128 mel)
    max_input_seconds = 1.0

    def __init__(self, checkpoint: str | None = None, device: str = "cpu", preset: str | None = None,
                 num_heads: int | None = None, weights: str = "student", trust_checkpoint: bool = False,
                 random_init_seed: int | None = None) -> None:
        if checkpoint is None and random_init_seed is None:
            raise EncoderError(NO_CHECKPOINT)
        self.checkpoint_sha256 = None
        if checkpoint is not None:
            model, info = load_encoder(checkpoint, trust=trust_checkpoint, preset_name=preset, num_heads=num_heads,
                                       weights=weights)
            cfg = model.cfg
            if random_init_seed is None:
                self.checkpoint_sha256 = file_sha256(checkpoint)
        else:
            cfg = make_preset(preset or "reference")
            if num_heads is not None:
                cfg = cfg.replace(model={"num_heads": int(num_heads)})
        if random_init_seed is not None:
            # Untrained baseline: the preset's (or the checkpoint's) architecture, weights from the seed only.
            with torch.random.fork_rng(devices=[]):  # leave the caller's global RNG untouched
                torch.manual_seed(int(random_init_seed))
                model = ImpactEncoder(cfg).eval()
            info = {"checkpoint_format": "random-init", "preset": cfg.preset, "seed": int(random_init_seed),
                    "architecture_from": str(checkpoint) if checkpoint else f"preset {cfg.preset}"}
        cfg = model.cfg
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.frontend = SpecFrontend(cfg.frontend).to(self.device)
        self.sample_rate = cfg.frontend.sample_rate
        self.embedding_dim = cfg.model.embed_dim
        self.config = {**info, "impact_config": cfg.to_dict()}
        self.frame_embedding_dim = cfg.model.embed_dim
        self._column_frames = 2 * cfg.model.patch_size  # spectrogram frames per token column (stem stride 2)
        self.frame_hop_ms = 1000.0 * self._column_frames * cfg.frontend.hop_length / self.sample_rate

    def embed(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            wave = torch.as_tensor(np.asarray(batch, dtype=np.float32), device=self.device)
            return self.model(self.frontend(wave)).float().cpu().numpy()

    def embed_frames(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, 48000) → last-layer patch tokens averaged over frequency, (B, G, E), one per time column."""
        with torch.inference_mode():
            wave = torch.as_tensor(np.asarray(batch, dtype=np.float32), device=self.device)
            tokens = self.model.encoder(self.model.with_cls(self.model.patch_tokens(self.frontend(wave))))[:, 1:]
            g = self.model.grid
            frames = tokens.reshape(tokens.shape[0], g, g, -1).mean(dim=1).float().cpu().numpy()
        p, hop = self._column_frames // 2, self.model.cfg.frontend.hop_length
        centres = (2 * p * np.arange(g) + p - 1) * hop  # samples
        return frames, 1000.0 * centres.astype(np.float64) / self.sample_rate
