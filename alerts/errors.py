"""The root error of ``alerts`` and its leaves; each leaf also subclasses the builtin it refines."""

from __future__ import annotations


class AlertsError(Exception):
    """Root of every error raised by the ``alerts`` package."""


class RoutingConfigError(AlertsError, ValueError):
    """The routing tree is invalid (bad key, matcher or receiver); the message names the route."""


class InvalidCursor(AlertsError, ValueError):
    """A page cursor that this store did not issue (or that was altered)."""


class AlertNotFound(AlertsError, LookupError):
    """No alert has the given id."""


class InvalidTransition(AlertsError, ValueError):
    """A case action the alert's status does not allow (e.g. acknowledging a resolved alert)."""


class StoreConflict(AlertsError, RuntimeError):
    """Concurrent writers kept colliding on the same alert; the write was given up after retries."""


class StaleAlert(StoreConflict):
    """The alert changed since it was read (another writer saved a newer revision)."""


class SilenceNotFound(AlertsError, LookupError):
    """No silence has the given id."""


class InvalidSilence(AlertsError, ValueError):
    """A silence with bad matchers or an end before its start."""
