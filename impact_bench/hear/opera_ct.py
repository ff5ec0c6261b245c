"""HEAR 2021 module for the impact-bench encoder ``opera-ct``: OPERA-CT (no frames: clip embeddings of 1-s windows every 50 ms).

model_file_path: encoder-operaCT.ckpt (Hugging Face evelyn0414/OPERA). Usage: ``hear-validator impact_bench.hear.opera_ct --model CHECKPOINT``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("opera-ct", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
