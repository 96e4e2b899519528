"""The ``alerts`` topic's outbox: every alert change the worker commits, until it is produced.

The pipeline writes a change's CloudEvent here in the transaction that stores the change
(``record_changes``), so a process killed after the commit and before the produce loses
nothing: the row stays unpublished and the worker's relay produces it after ``grace``. Rows
hold the exact bytes produced, so a change produced twice (at least once) is the same record
twice, CloudEvent id ``<alert_id>.<revision>`` included, and consumers drop it by that id.

A relay claim is a lease, like the delivery outbox's: in one short transaction the due rows
are locked (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so relays of several workers take disjoint
rows; SQLite: ``BEGIN IMMEDIATE`` serialises them) and their ``relay_at`` is pushed ``lease``
ahead; producing happens outside any transaction. A row is marked published only while still
unpublished, whoever produced it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from alerts.alert import AlertChange, utc
from alerts.store.engine import writer
from alerts.store.tables import PUBLISHED, UNPUBLISHED, topic_outbox


@dataclass(frozen=True, slots=True)
class TopicRecord:
    """One CloudEvent for the ``alerts`` topic: Kafka key (the dedup key) and JSON value."""

    alert_id: str
    revision: int
    kind: str
    key: str
    value: str

    @classmethod
    def of(cls, change: AlertChange) -> TopicRecord:
        alert = change.alert
        value = change.encoded or orjson.dumps(change.cloudevent()).decode("utf-8")
        return cls(alert.alert_id, alert.revision, change.kind, alert.dedup_key, value)

    @property
    def cloudevent_id(self) -> str:
        return f"{self.alert_id}.{self.revision}"


def record_changes(
    session: Session, records: Sequence[TopicRecord], *, now: datetime, relay_at: datetime
) -> None:
    """Queue ``records`` in the caller's transaction (the one storing their changes)."""
    if not records:
        return
    rows: list[dict[str, Any]] = [
        {
            "alert_id": r.alert_id,
            "revision": r.revision,
            "kind": r.kind,
            "dedup_key": r.key,
            "cloudevent": r.value,
            "created_at": utc(now),
            "relay_at": utc(relay_at),
        }
        for r in records
    ]
    session.execute(insert(topic_outbox), rows)


_COLUMNS = (
    topic_outbox.c.alert_id,
    topic_outbox.c.revision,
    topic_outbox.c.kind,
    topic_outbox.c.dedup_key,
    topic_outbox.c.cloudevent,
)
_MARK = (
    update(topic_outbox)
    .where(
        topic_outbox.c.alert_id == bindparam("_alert_id"),
        topic_outbox.c.revision == bindparam("_revision"),
        UNPUBLISHED,
    )
    .values(published_at=bindparam("_at"))
)


def _record(row: Any) -> TopicRecord:
    return TopicRecord(row.alert_id, row.revision, row.kind, row.dedup_key, row.cloudevent)


class TopicOutbox:
    """Claims, marks and prunes ``topic_outbox`` rows; each call is its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)

    def claim(self, *, now: datetime, limit: int, lease: timedelta) -> list[TopicRecord]:
        """Lease up to ``limit`` unpublished rows due at ``now`` (``relay_at``), oldest first."""
        now = utc(now)
        query = (
            select(topic_outbox.c.id, *_COLUMNS)
            .where(UNPUBLISHED, topic_outbox.c.relay_at <= now)
            .order_by(topic_outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with Session(self._writer) as session, session.begin():
            rows = session.execute(query).all()
            if rows:
                session.execute(
                    update(topic_outbox)
                    .where(topic_outbox.c.id.in_([r.id for r in rows]))
                    .values(relay_at=now + lease)
                )
        return [_record(r) for r in rows]

    def mark_published(self, records: Sequence[TopicRecord], *, now: datetime) -> None:
        """Mark the rows of ``records`` published (acknowledged by the broker) at ``now``."""
        if not records:
            return
        params = [
            {"_alert_id": r.alert_id, "_revision": r.revision, "_at": utc(now)} for r in records
        ]
        with Session(self._writer) as session, session.begin():
            session.connection().execute(_MARK, params)

    def prune(self, *, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` rows published before ``before``; how many went."""
        doomed = (
            select(topic_outbox.c.id)
            .where(PUBLISHED, topic_outbox.c.published_at < utc(before))
            .limit(limit)
            .scalar_subquery()
        )
        with Session(self._writer) as session, session.begin():
            result = session.execute(delete(topic_outbox).where(topic_outbox.c.id.in_(doomed)))
        return int(getattr(result, "rowcount", 0) or 0)

    def pending(self) -> int:
        """Rows not yet published (produced or not, the broker has not acknowledged them)."""
        with Session(self.engine) as session:
            count = session.scalar(
                select(func.count()).select_from(topic_outbox).where(UNPUBLISHED)
            )
        return int(count or 0)

    def unpublished(self, *, limit: int = 1000) -> list[TopicRecord]:
        """The unpublished rows in commit order, leased or not (inspection, tests)."""
        query = select(*_COLUMNS).where(UNPUBLISHED).order_by(topic_outbox.c.id).limit(limit)
        with Session(self.engine) as session:
            return [_record(r) for r in session.execute(query)]
