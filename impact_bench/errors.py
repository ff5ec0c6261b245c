"""User-facing error types.

Every error a user can cause (bad data, bad task file, unknown encoder, ...) is raised as an
:class:`ImpactBenchError` subclass whose message names the file or field at fault. The CLI prints
these without a traceback and exits with status 2; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations


class ImpactBenchError(Exception):
    """Base class for errors caused by user input or environment, not by a bug."""


class DataError(ImpactBenchError):
    """A dataset folder, audio file or class layout is missing or malformed."""


class TaskFileError(ImpactBenchError):
    """A suite definition under ``tasks/`` failed validation."""


class RegistryError(ImpactBenchError):
    """A name could not be resolved in a registry (or two entries collide)."""


class EncoderError(ImpactBenchError):
    """An encoder could not be built, or broke its contract at run time."""


class ResultsError(ImpactBenchError):
    """A results file is missing, incomplete, or would be overwritten."""
