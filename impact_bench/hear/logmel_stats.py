"""HEAR 2021 module for the impact-bench encoder ``logmel-stats``: log-mel statistics, weight-free (frames: 128 dB mel bands, one per 10.67 ms).

No weights: load_model() takes an empty path. Usage: ``hear-validator impact_bench.hear.logmel_stats``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("logmel-stats", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
