"""HEAR 2021 module for the impact-bench encoder ``audiomae-ft``: AudioMAE fine-tuned ViT-B (frames: fc_norm of tokens averaged over frequency, one per 160 ms).

model_file_path: the fine-tuned ViT-B checkpoint (facebookresearch/AudioMAE). Usage: ``hear-validator impact_bench.hear.audiomae_ft --model CHECKPOINT``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("audiomae-ft", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
