"""``impact`` encoder adapter: last-layer CLS of a trained (or the authors') IMPACT checkpoint."""
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

    def embed(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            wave = torch.as_tensor(np.asarray(batch, dtype=np.float32), device=self.device)
            return self.model(self.frontend(wave)).float().cpu().numpy()
