"""HEAR 2021 module for the impact-bench encoder ``audiomae``: AudioMAE pre-trained ViT-B (frames: normed tokens averaged over frequency, one per 160 ms).

model_file_path: the pre-trained ViT-B checkpoint (facebookresearch/AudioMAE). Usage: ``hear-validator impact_bench.hear.audiomae --model CHECKPOINT``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("audiomae", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
