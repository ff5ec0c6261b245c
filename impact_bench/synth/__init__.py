"""Deterministic, physics-informed synthetic data written in the real release layouts."""
