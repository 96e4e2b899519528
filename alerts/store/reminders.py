"""The outbox side of reminders (``repeat_interval``): armed rows, and the reminder rows.

A delivered notification of an active alert is *armed* (``repeat_at`` set) when the dispatcher
settles it. The pipeline's tick reads the armed rows that are due, in ``repeat_at`` order
through a partial index, and for each one either queues the next reminder (a new outbox row,
``repeat`` one higher, unique per (alert, revision, receiver, repeat)) and disarms it, or arms
it again for later, or disarms it for good. The decision is ``alerts.reminders``'; this module
only reads and writes rows, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from alerts.alert import Alert, ChangeKind, utc
from alerts.store.repository import alert_from_row
from alerts.store.tables import ARMED, alerts, outbox


@dataclass(frozen=True, slots=True)
class Armed:
    """A delivered notification waiting to be reminded: the latest one, unless superseded."""

    id: int
    alert_id: str
    revision: int
    receiver: str
    kind: ChangeKind
    repeat: int
    delivered_at: datetime
    repeat_at: datetime


@dataclass(frozen=True, slots=True)
class Reminder:
    """The next reminder of ``armed``: the alert as it is now, to the same receiver."""

    armed: Armed
    alert: Alert
    group_key: str


_REARM = (
    update(outbox).where(outbox.c.id == bindparam("_id")).values(repeat_at=bindparam("_repeat_at"))
)


def due_query(*, now: datetime, limit: int) -> Select[Any]:
    """The armed rows due at ``now``: a range of the partial index ``ix_outbox_repeat_at``."""
    return (
        select(
            outbox.c.id,
            outbox.c.alert_id,
            outbox.c.revision,
            outbox.c.receiver,
            outbox.c.kind,
            outbox.c.repeat,
            outbox.c.delivered_at,
            outbox.c.repeat_at,
        )
        .where(ARMED, outbox.c.repeat_at <= utc(now))
        .order_by(outbox.c.repeat_at, outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


class Reminders:
    """Reads and writes armed rows and reminders in ``session``; the caller owns the commit."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def due(self, *, now: datetime, limit: int) -> list[Armed]:
        """Up to ``limit`` armed rows with ``repeat_at <= now``, earliest first.

        On PostgreSQL the rows are locked (``SKIP LOCKED``): two ticks take disjoint rows,
        so a reminder is queued once. SQLite serialises the writers instead.
        """
        return [
            Armed(
                id=r.id,
                alert_id=r.alert_id,
                revision=r.revision,
                receiver=r.receiver,
                kind=r.kind,
                repeat=r.repeat,
                delivered_at=r.delivered_at or r.repeat_at,
                repeat_at=r.repeat_at,
            )
            for r in self.session.execute(due_query(now=now, limit=limit))
        ]

    def latest(self, alert_ids: Collection[str]) -> dict[tuple[str, str], int]:
        """(alert_id, receiver) -> the id of its latest outbox row (delivered or not)."""
        if not alert_ids:
            return {}
        query = (
            select(outbox.c.alert_id, outbox.c.receiver, func.max(outbox.c.id))
            .where(outbox.c.alert_id.in_(sorted(alert_ids)))
            .group_by(outbox.c.alert_id, outbox.c.receiver)
        )
        return {(a, r): int(i) for a, r, i in self.session.execute(query).all()}

    def alerts(self, alert_ids: Collection[str]) -> dict[str, Alert]:
        if not alert_ids:
            return {}
        query = select(alerts).where(alerts.c.alert_id.in_(sorted(alert_ids)))
        found = (alert_from_row(r) for r in self.session.execute(query))
        return {a.alert_id: a for a in found}

    def rearm(self, times: Mapping[int, datetime | None]) -> None:
        """Set ``repeat_at`` of the given rows (None disarms them), in one statement."""
        if times:
            params = [
                {"_id": row_id, "_repeat_at": utc(at) if at else None}
                for row_id, at in times.items()
            ]
            self.session.connection().execute(_REARM, params)

    def enqueue(self, reminders: Sequence[Reminder], *, now: datetime) -> int:
        """Queue the reminders (due now) and disarm the rows they remind of."""
        if not reminders:
            return 0
        rows: list[dict[str, Any]] = [
            {
                "alert_id": r.alert.alert_id,
                "revision": r.alert.revision,
                "receiver": r.armed.receiver,
                "kind": _kind(r),
                "group_key": r.group_key,
                "payload": r.alert.to_cloudevent(_kind(r)),
                "created_at": utc(now),
                "attempts": 0,
                "next_attempt_at": utc(now),
                "repeat": r.armed.repeat + 1,
            }
            for r in reminders
        ]
        self.rearm({r.armed.id: None for r in reminders})
        self.session.execute(insert(outbox), rows)
        return len(rows)


def _kind(reminder: Reminder) -> ChangeKind:
    """The change the reminder carries: the notified one, or ``updated`` when the alert
    changed since (more occurrences) without a notification."""
    if reminder.alert.revision == reminder.armed.revision:
        return reminder.armed.kind
    return "updated"
