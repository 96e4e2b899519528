"""The root error of ``models`` and its leaves; each leaf also subclasses the builtin it refines."""

from __future__ import annotations


class ModelsError(Exception):
    """Root of every error raised by the ``models`` package."""


class InvalidEvent(ModelsError, ValueError):
    """An event breaks its contract or carries impossible values; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidParameter(ModelsError, ValueError):
    """A detector parameter is out of its allowed range."""


class ArtifactError(ModelsError, ValueError):
    """A model artifact is missing, tampered with or does not match what the caller expects."""
