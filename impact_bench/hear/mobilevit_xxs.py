"""HEAR 2021 module for the impact-bench encoder ``mobilevit-xxs``: the LISTEN release's MobileViT-XXS student (frames: one per 250.67 ms).

model_file_path: LISTEN/Models/MobileViT-XXS.pth. Usage: ``hear-validator impact_bench.hear.mobilevit_xxs --model CHECKPOINT``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("mobilevit-xxs", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
