"""HEAR 2021 module for the impact-bench encoder ``vggish``: VGGish (no frames: clip embeddings of 1-s windows every 50 ms).

model_file_path: vggish-10086976.pth (harritaylor/torchvggish). Usage: ``hear-validator impact_bench.hear.vggish --model CHECKPOINT``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("vggish", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
