"""HEAR 2021 module for the impact-bench encoder ``mobilenetv4-small``: the LISTEN release's MobileNetV4-Small student (frames: one per 250.67 ms).

model_file_path: LISTEN/Models/MobileNetV4-Small.pth. Usage: ``hear-validator impact_bench.hear.mobilenetv4_small --model CHECKPOINT``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("mobilenetv4-small", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
