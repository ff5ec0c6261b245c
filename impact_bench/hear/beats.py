"""HEAR 2021 module for the impact-bench encoder ``beats``: BEATs (mean last-layer token; frames: tokens averaged over frequency, one per 160 ms).

model_file_path: BEATs_iter3_plus_AS2M.pt (microsoft/unilm beats). Usage: ``hear-validator impact_bench.hear.beats --model CHECKPOINT``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("beats", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
