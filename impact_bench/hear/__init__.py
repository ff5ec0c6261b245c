"""impact-bench encoders as HEAR 2021 modules (hearbenchmark.com, "Common API"), for hear-eval-kit.

``impact_bench.hear.<encoder>`` (``impact``, ``listen``, ``bc_resnet_3``, ``mobilevit_xxs``, ``beats``,
``audiomae``, ``logmel_stats``, … one per built-in) exposes ``load_model(model_file_path)``,
``get_scene_embeddings(audio, model)`` and ``get_timestamp_embeddings(audio, model)``;
``impact_bench.hear.by_name`` serves any encoder the catalog can build (plugins too), named in the model
path as ``NAME`` or ``NAME=CHECKPOINT``. See docs/hear.md.

This is the opposite direction of ``impact_bench.encoders.hear`` (``--encoder hear:MODULE``: a HEAR module
used as an impact-bench encoder).
"""
