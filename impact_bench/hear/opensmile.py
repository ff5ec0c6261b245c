"""HEAR 2021 module for the impact-bench encoder ``opensmile``: openSMILE ComParE_2016 functionals, weight-free, needs the opensmile extra (no frames: 1-s windows every 50 ms).

No weights: load_model() takes an empty path. Usage: ``hear-validator impact_bench.hear.opensmile``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("opensmile", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
