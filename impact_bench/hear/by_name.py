"""HEAR 2021 module for any encoder the impact-bench catalog can build (built-ins, plugins,
``pkg.module:Class``), named by the ``encoder`` option or in the model path as ``NAME=CHECKPOINT``.

    python -m heareval.embeddings.runner impact_bench.hear.by_name --model /w/vggish-10086976.pth \
        --model-options '{"encoder": "vggish"}'
    hear-validator impact_bench.hear.by_name --model logmel-stats
    hear-validator impact_bench.hear.by_name --model vggish=/w/vggish-10086976.pth

(hear-eval-kit's ``--model`` must be an existing file, so it names the encoder with ``--model-options``;
hear-validator passes ``--model`` through as it is.)
"""
from __future__ import annotations

from typing import Any

from impact_bench.errors import EncoderError
from impact_bench.hear.model import HearModel, load
from impact_bench.hear.module import get_scene_embeddings, get_timestamp_embeddings

__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]


def load_model(model_file_path: str = "", encoder: str = "", **options: Any) -> HearModel:
    """``encoder`` names the encoder and ``model_file_path`` is its checkpoint (or empty); without
    ``encoder``, ``model_file_path`` is ``NAME`` or ``NAME=CHECKPOINT``. Other keywords: encoder options."""
    path = str(model_file_path or "")
    name = encoder.strip()
    if not name:
        name, _, path = path.partition("=")
        name = name.strip()
    if not name:
        raise EncoderError(f"{__name__}: load_model needs the encoder: the option encoder=NAME, or model_file_path "
                           f"'NAME' or 'NAME=CHECKPOINT' (e.g. 'logmel-stats', 'beats=/w/BEATs_iter3_plus_AS2M.pt'); "
                           f"`impact-bench list encoders` names them")
    hint = ("pass its checkpoint as model_file_path" if encoder.strip()
            else f"name it in model_file_path as '{name}=CHECKPOINT'")
    return load(name, path, options=options, hear_module=f"{__name__} ({name})", checkpoint_hint=hint)
