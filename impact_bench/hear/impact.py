"""HEAR 2021 module for the impact-bench encoder ``impact``: IMPACT (last-layer CLS; frames: patch tokens averaged over frequency, one per 250.67 ms).

model_file_path: impact_DINOS_epoch_0010.pth or a checkpoint from `impact-bench train`. Usage: ``hear-validator impact_bench.hear.impact --model CHECKPOINT``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("impact", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
