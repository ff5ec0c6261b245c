"""HEAR 2021 module for the impact-bench encoder ``listen``: LISTEN (mean patch token; frames: tokens averaged over frequency, one per 125.33 ms).

model_file_path: LISTEN/Models/LISTEN.pth (github.com/hanprd/LISTEN). Usage: ``hear-validator impact_bench.hear.listen --model CHECKPOINT``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("listen", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
