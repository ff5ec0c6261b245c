"""Encoder contract, discovery and conformance checks."""
from impact_bench.encoders.protocol import Encoder, describe

__all__ = ["Encoder", "describe"]
