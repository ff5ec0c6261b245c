"""The three HEAR functions, bound to one encoder: what each ``impact_bench.hear.<encoder>`` module exports.

``get_scene_embeddings`` and ``get_timestamp_embeddings`` take the model, so they are the same for every
encoder; ``load_model`` is made per encoder by :func:`bind`.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from impact_bench.hear.embeddings import scene_embeddings, timestamp_embeddings
from impact_bench.hear.model import HearModel, load

__all__ = ["bind", "get_scene_embeddings", "get_timestamp_embeddings", "load", "HearModel"]


def bind(encoder_name: str, hear_module: str) -> Callable[..., HearModel]:
    """``load_model(model_file_path: str = "", **options) -> HearModel`` for ``encoder_name``; ``options`` are
    encoder options (hear-eval-kit's ``--model-options '{"num_heads": 16}'`` passes them as keywords)."""
    def load_model(model_file_path: str = "", **options: Any) -> HearModel:
        return load(encoder_name, model_file_path, options=options, hear_module=hear_module)

    load_model.__doc__ = (f"HEAR load_model for the impact-bench encoder {encoder_name!r}: model_file_path is its "
                          f"checkpoint (empty: looked for where `impact-bench weights` looks; none needed by "
                          f"weight-free encoders); keyword options are encoder options. Returns a torch.nn.Module with sample_rate, "
                          f"scene_embedding_size and timestamp_embedding_size.")
    load_model.__module__ = hear_module
    load_model.encoder_name = encoder_name  # type: ignore[attr-defined]
    return load_model


def get_scene_embeddings(audio: torch.Tensor, model: HearModel) -> torch.Tensor:
    """HEAR: (n_sounds, n_samples) audio at model.sample_rate → (n_sounds, model.scene_embedding_size) float32."""
    return scene_embeddings(audio, model)


def get_timestamp_embeddings(audio: torch.Tensor, model: HearModel) -> tuple[torch.Tensor, torch.Tensor]:
    """HEAR: (n_sounds, n_samples) → ((n_sounds, T, model.timestamp_embedding_size) float32 embeddings,
    (n_sounds, T) timestamps in ms, each the centre of its embedding's frame)."""
    return timestamp_embeddings(audio, model)
