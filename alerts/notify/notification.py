"""What a channel sends: one notification (a batch of alert changes of one group, one receiver).

Senders raise ``DeliveryFailed``; ``permanent`` means retrying cannot help (the receiver
refused the request), so the outbox rows are marked dead at once instead of retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from alerts.errors import AlertsError
from alerts.notify.config import Target

#: CloudEvents extension attribute of a reminder: its number (1 for the first reminder).
REPEAT_ATTRIBUTE = "fenghuorepeat"


def repeat_of(event: Mapping[str, Any]) -> int:
    """0 for a change, n for the n-th reminder (``repeat_interval``) of one."""
    return int(event.get(REPEAT_ATTRIBUTE, 0))


class DeliveryFailed(AlertsError, RuntimeError):
    """A channel did not take the notification; ``permanent``: do not retry."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for one receiver.

    ``key`` is the idempotency key: the same on every retry of this batch, so a receiver that
    got it before (and whose answer was lost) can drop the repeat. ``events`` are the
    CloudEvents of the outbox rows, oldest first; each keeps its own id (``<alert_id>.<rev>``),
    and a reminder's carries ``fenghuorepeat``: n (see ``repeat_of``).
    """

    key: str
    receiver: str
    group_key: str
    events: tuple[dict[str, Any], ...]
    alert_url: str | None = None

    @property
    def repeat(self) -> int:
        """The highest reminder number among the events (0: no reminder in it)."""
        return max((repeat_of(e) for e in self.events), default=0)

    def link(self, alert_id: str) -> str | None:
        return self.alert_url.format(alert_id=alert_id) if self.alert_url else None


class Sender(Protocol):
    """A channel kind (webhook, email, alertmanager): delivers a notification to one target."""

    async def send(self, notification: Notification, target: Target) -> None: ...
