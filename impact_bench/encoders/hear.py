"""``--encoder hear:MODULE``: any HEAR 2021 module (``load_model`` / ``get_scene_embeddings``) as an encoder.

HEAR API (hearbenchmark.com, "Common API"): ``load_model(model_file_path: str = "")`` returns a model
with ``sample_rate`` and ``scene_embedding_size``; ``get_scene_embeddings(audio, model)`` maps a float32
tensor (n_sounds, n_samples) at that rate to (n_sounds, scene_embedding_size). ``--checkpoint`` is passed
to ``load_model``. The module is imported only when named (no plugin discovery).
torch and numpy are imported when an encoder is built, so that the encoder catalog (and
``impact-bench list encoders``) stays cheap to import.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from impact_bench.errors import EncoderError

if TYPE_CHECKING:
    import numpy as np

PREFIX = "hear:"


class HearEncoder:
    version = "1"
    license = "see the HEAR module"
    min_input_seconds = 0.1
    max_input_seconds: float | None = None

    def __init__(self, module: str, checkpoint: str | None = None, device: str = "cpu") -> None:
        import torch

        try:
            self.module = importlib.import_module(module)
        except Exception as exc:
            raise EncoderError(f"hear:{module}: cannot import the HEAR module ({type(exc).__name__}: {exc}); "
                               f"install it first (pip install …)") from exc
        missing = [f for f in ("load_model", "get_scene_embeddings") if not callable(getattr(self.module, f, None))]
        if missing:
            raise EncoderError(f"hear:{module}: not a HEAR module, missing {missing} (HEAR common API)")
        self.model: Any = self.module.load_model(checkpoint or "")
        for attr in ("sample_rate", "scene_embedding_size"):
            if not isinstance(getattr(self.model, attr, None), int):
                raise EncoderError(f"hear:{module}: load_model() returned a model without an int {attr!r}")
        if isinstance(self.model, torch.nn.Module):
            self.model.eval().to(device)
        self.device = torch.device(device)
        self.name = f"hear-{module}"  # file-name safe (results/<suite>__<name>.json)
        self.sample_rate = int(self.model.sample_rate)
        self.embedding_dim = int(self.model.scene_embedding_size)
        self.description = f"HEAR module {module}, scene embedding"
        self.config = {"hear_module": module, "checkpoint": checkpoint,
                       "module_version": getattr(self.module, "__version__", None)}

    def embed(self, batch: np.ndarray) -> np.ndarray:
        import numpy as np
        import torch

        audio = torch.as_tensor(np.asarray(batch, dtype=np.float32), device=self.device)
        with torch.inference_mode():
            out = self.module.get_scene_embeddings(audio, self.model)
        out = torch.as_tensor(out).float().cpu().numpy()
        if out.shape != (len(batch), self.embedding_dim):
            raise EncoderError(f"{self.name}: get_scene_embeddings returned shape {out.shape}, expected "
                               f"({len(batch)}, {self.embedding_dim})")
        return out


def hear_factory(module: str) -> Any:
    """A factory with the usual (checkpoint, device) keywords for build_encoder."""
    def make(checkpoint: str | None = None, device: str = "cpu") -> HearEncoder:
        return HearEncoder(module, checkpoint, device)
    return make
