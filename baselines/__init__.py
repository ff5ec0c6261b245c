"""Baseline encoder adapters (installed as ``impact_bench.baselines``)."""
