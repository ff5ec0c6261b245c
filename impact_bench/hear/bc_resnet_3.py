"""HEAR 2021 module for the impact-bench encoder ``bc-resnet-3``: the LISTEN release's BC-ResNet-3 student (frames: last feature map averaged over frequency, one per 7.83 ms).

model_file_path: LISTEN/Models/BC-ResNet-3.pth. Usage: ``hear-validator impact_bench.hear.bc_resnet_3 --model CHECKPOINT``; docs/hear.md.
"""
from impact_bench.hear.module import bind, get_scene_embeddings, get_timestamp_embeddings

load_model = bind("bc-resnet-3", __name__)
__all__ = ["load_model", "get_scene_embeddings", "get_timestamp_embeddings"]
