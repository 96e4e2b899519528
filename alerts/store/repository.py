"""``AlertRepository(session)``: every read and write of alerts, in the caller's transaction.

Writes are idempotent: an alert is saved by ``alert_id`` (insert or update), event ids by
(dedup_key, event_id), outbox rows by (alert_id, revision, receiver) (reminders add their
repeat number: ``alerts.store.reminders``). Pages are keyset (cursor) pages in (``last_seen``
or ``first_seen``, ``alert_id``) order, newest first.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, and_, bindparam, delete, exists, func, insert, or_, select, true, update
from sqlalchemy.orm import Session

from alerts.alert import Alert, AlertStatus, ChangeKind, utc
from alerts.errors import InvalidCursor, StaleAlert
from alerts.store.tables import (
    ACTIVE,
    alert_events,
    alert_history,
    alert_routes,
    alerts,
    outbox,
)
from models import Category, DetectorKind, DetectorRef, EntityType, Feed, Severity

SortKey = Literal["last_seen", "first_seen"]


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """The API's filters; each set field narrows the page (collections mean "any of")."""

    category: Collection[str] | None = None
    severity: Collection[str] | None = None
    status: Collection[str] | None = None
    feed: Collection[str] | None = None
    institution_id: str | None = None
    institution_type: Collection[str] | None = None
    region_code: Collection[str] | None = None
    receivers: Collection[str] | None = None
    entity_id: str | None = None
    dedup_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Alert]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A pending delivery: one alert change for one receiver."""

    id: int
    alert_id: str
    revision: int
    receiver: str
    kind: ChangeKind
    group_key: str
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    #: 0 for the change itself, n for its n-th reminder (``repeat_interval``).
    repeat: int = 0


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of the audit trail."""

    alert_id: str
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    revision: int
    detail: dict[str, Any]


def _row_values(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": alert.alert_id,
        "dedup_key": alert.dedup_key,
        "category": str(alert.category),
        "severity": str(alert.severity),
        "score": alert.score,
        "feed": str(alert.feed),
        "detector_kind": str(alert.detector.kind),
        "detector_name": alert.detector.name,
        "detector_version": alert.detector.version,
        "entity_type": str(alert.entity_type),
        "entity_id": alert.entity_id,
        "institution_id": alert.institution_id,
        "institution_type": alert.institution_type,
        "region_code": alert.region_code,
        "routes": list(alert.routes),
        "evidence": alert.evidence,
        "explanation": list(alert.explanation),
        "event_ids": list(alert.event_ids),
        "first_seen": alert.first_seen,
        "last_seen": alert.last_seen,
        "occurrences": alert.occurrences,
        "status": str(alert.status),
        "revision": alert.revision,
        "resolved_at": alert.resolved_at,
        "created_at": alert.created_at,
        "updated_at": alert.updated_at,
        "assignee": alert.assignee,
        "escalation_level": alert.escalation_level,
        "false_positive": alert.false_positive,
        "acknowledged_at": alert.acknowledged_at,
    }


# Hot statements, built once (the pipeline runs them for every finding).
_UPDATE_ALERT = update(alerts).where(alerts.c.alert_id == bindparam("_id"))
_UPDATE_REVISION = update(alerts).where(
    alerts.c.alert_id == bindparam("_id"), alerts.c.revision == bindparam("_rev")
)
_INSERT_ALERT = insert(alerts)
_INSERT_EVENTS = insert(alert_events)
_SELECT_ROUTES = select(alert_routes.c.receiver).where(alert_routes.c.alert_id == bindparam("_id"))
_UPDATE_ROUTE_TIMES = update(alert_routes).where(alert_routes.c.alert_id == bindparam("_id"))
_SELECT_ACTIVE = select(alerts).where(alerts.c.dedup_key == bindparam("_key"), ACTIVE)
_SELECT_ACTIVE_FOR_UPDATE = _SELECT_ACTIVE.with_for_update()
_SELECT_SEEN = select(alert_events.c.event_id).where(
    alert_events.c.dedup_key == bindparam("_key"),
    alert_events.c.event_id.in_(bindparam("_ids", expanding=True)),
)


def alert_from_row(row: Row[Any] | Any) -> Alert:
    m = row._mapping
    return Alert(
        alert_id=m["alert_id"],
        dedup_key=m["dedup_key"],
        category=Category(m["category"]),
        severity=Severity(m["severity"]),
        score=float(m["score"]),
        feed=Feed(m["feed"]),
        detector=DetectorRef(
            DetectorKind(m["detector_kind"]), m["detector_name"], m["detector_version"]
        ),
        entity_type=EntityType(m["entity_type"]),
        entity_id=m["entity_id"],
        institution_id=m["institution_id"],
        institution_type=m["institution_type"],
        region_code=m["region_code"],
        routes=tuple(m["routes"]),
        first_seen=m["first_seen"],
        last_seen=m["last_seen"],
        event_ids=tuple(m["event_ids"]),
        evidence=dict(m["evidence"]),
        explanation=tuple(m["explanation"]),
        occurrences=m["occurrences"],
        status=AlertStatus(m["status"]),
        revision=m["revision"],
        resolved_at=m["resolved_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        assignee=m["assignee"],
        escalation_level=m["escalation_level"],
        false_positive=bool(m["false_positive"]),
        acknowledged_at=m["acknowledged_at"],
    )


def encode_cursor(sort_value: datetime, alert_id: str) -> str:
    raw = json.dumps([utc(sort_value).isoformat(), alert_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, alert_id = json.loads(raw)
        return utc(datetime.fromisoformat(when)), str(alert_id)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor(f"invalid page cursor {cursor[:40]!r}") from exc


class AlertRepository:
    """Reads and writes alerts in ``session``; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- alerts ---------------------------------------------------------------------------
    def get(self, alert_id: str) -> Alert | None:
        row = self.session.execute(select(alerts).where(alerts.c.alert_id == alert_id)).first()
        return alert_from_row(row) if row else None

    def active(self, dedup_key: str, *, for_update: bool = False) -> Alert | None:
        """The alert that holds ``dedup_key`` now (any status but resolved), if any."""
        query = _SELECT_ACTIVE_FOR_UPDATE if for_update else _SELECT_ACTIVE
        row = self.session.connection().execute(query, {"_key": dedup_key}).first()
        return alert_from_row(row) if row else None

    def save(self, alert: Alert, *, previous: Alert | None = None) -> None:
        """Insert or update by ``alert_id``; the routes join table follows ``alert.routes``.

        With ``previous`` (the stored state the caller changed) the update only applies to that
        revision, else ``StaleAlert``: a case action and a new finding never overwrite each other.
        """
        values = _row_values(alert)
        changes = {k: v for k, v in values.items() if k != "alert_id"}
        db = self.session.connection()
        if previous is not None:
            # Optimistic check: the row must still be the revision the caller changed.
            params = {**changes, "_id": alert.alert_id, "_rev": previous.revision}
            if db.execute(_UPDATE_REVISION, params).rowcount == 0:
                raise StaleAlert(
                    f"alert {alert.alert_id} is no longer at revision {previous.revision}"
                )
            current = set(previous.routes)
        elif db.execute(_UPDATE_ALERT, {**changes, "_id": alert.alert_id}).rowcount:
            current = set(db.scalars(_SELECT_ROUTES, {"_id": alert.alert_id}))
        else:
            db.execute(_INSERT_ALERT, values)
            current = set()
        wanted = set(alert.routes)
        times = {"first_seen": alert.first_seen, "last_seen": alert.last_seen}
        moved = previous is None or (previous.first_seen, previous.last_seen) != (
            alert.first_seen,
            alert.last_seen,
        )
        if moved and current & wanted:
            db.execute(_UPDATE_ROUTE_TIMES, {**times, "_id": alert.alert_id})
        if wanted - current:
            rows = [
                {"alert_id": alert.alert_id, "receiver": r, **times}
                for r in sorted(wanted - current)
            ]
            db.execute(insert(alert_routes), rows)
        if current - wanted:
            db.execute(
                delete(alert_routes).where(
                    alert_routes.c.alert_id == alert.alert_id,
                    alert_routes.c.receiver.in_(current - wanted),
                )
            )

    def page(
        self,
        where: AlertFilter | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
        sort: SortKey = "last_seen",
    ) -> Page:
        """One page, newest first; pass ``next_cursor`` back for the next one.

        Scoped to one receiver (an agency's view), the page is read from ``alert_routes`` in
        (receiver, sort column, alert_id) index order, so it costs the same for an agency with
        a handful of alerts among millions as for one with most of them.
        """
        where = where or AlertFilter()
        query, column, alert_id_column = self._source(where, sort)
        if cursor:
            when, alert_id = decode_cursor(cursor)
            query = query.where(
                or_(column < when, and_(column == when, alert_id_column < alert_id))
            )
        query = query.order_by(column.desc(), alert_id_column.desc()).limit(limit + 1)
        found = [alert_from_row(r) for r in self.session.execute(query)]
        more = len(found) > limit
        items = found[:limit]
        last = items[-1] if more else None
        next_cursor = encode_cursor(getattr(last, sort), last.alert_id) if last else None
        return Page(items, next_cursor)

    def count(self, where: AlertFilter | None = None) -> int:
        source, _, _ = self._source(where or AlertFilter(), "last_seen")
        query = select(func.count()).select_from(source.subquery())
        return int(self.session.scalar(query) or 0)

    @classmethod
    def _source(cls, where: AlertFilter, sort: SortKey) -> tuple[Any, Any, Any]:
        """The filtered select, and the (time, alert_id) columns that order it."""
        receivers = set(where.receivers) if where.receivers is not None else set()
        if len(receivers) != 1:
            column = alerts.c[sort]
            return select(alerts).where(*cls._conditions(where, column)), column, alerts.c.alert_id
        column = alert_routes.c[sort]
        rest = replace(where, receivers=None)
        query = (
            select(alerts)
            .join(alert_routes, alert_routes.c.alert_id == alerts.c.alert_id)
            .where(alert_routes.c.receiver == receivers.pop(), *cls._conditions(rest, column))
        )
        return query, column, alert_routes.c.alert_id

    @staticmethod
    def _conditions(where: AlertFilter, column: Any) -> list[Any]:
        found: list[Any] = []
        for name in ("category", "severity", "status", "feed", "institution_type", "region_code"):
            wanted = getattr(where, name)
            if wanted is not None:
                found.append(alerts.c[name].in_([str(v) for v in wanted]))
        for name in ("institution_id", "entity_id", "dedup_key"):
            if getattr(where, name) is not None:
                found.append(alerts.c[name] == getattr(where, name))
        if where.receivers is not None:
            found.append(
                exists().where(
                    alert_routes.c.alert_id == alerts.c.alert_id,
                    alert_routes.c.receiver.in_(list(where.receivers)),
                )
            )
        if where.since is not None:
            found.append(column >= utc(where.since))
        if where.until is not None:
            found.append(column < utc(where.until))
        return found

    def active_where(
        self, columns: Mapping[str, str | None], *, limit: int = 100
    ) -> Iterator[Alert]:
        """Active alerts whose ``columns`` equal the given values (None: the column is empty),
        read one at a time so a caller that stops early decodes no more rows."""
        query = select(alerts).where(ACTIVE)
        for name, value in columns.items():
            column = alerts.c[name]
            query = query.where(column.is_(None) if value is None else column == value)
        result = self.session.connection().execute(query.limit(limit))
        try:
            for row in result:
                yield alert_from_row(row)
        finally:
            result.close()

    def unacknowledged(
        self, *, level: int, opened_before: datetime, limit: int = 500
    ) -> list[Alert]:
        """Alerts nobody acknowledged, at escalation ``level``, opened before the given time."""
        query = (
            select(alerts)
            .where(
                ACTIVE,
                alerts.c.status.in_([AlertStatus.OPEN.value, AlertStatus.ESCALATED.value]),
                alerts.c.escalation_level == level,
                alerts.c.created_at < utc(opened_before),
            )
            .order_by(alerts.c.created_at, alerts.c.alert_id)
            .limit(limit)
        )
        return [alert_from_row(r) for r in self.session.connection().execute(query)]

    def quiet_since(
        self,
        before: datetime,
        *,
        limit: int = 1000,
        exclude_categories: Iterable[str] = (),
    ) -> list[Alert]:
        """Active alerts last seen before ``before`` (candidates for a quiet-period resolve)."""
        excluded = sorted(exclude_categories)
        query = (
            select(alerts)
            .where(ACTIVE, alerts.c.last_seen < utc(before))
            .where(alerts.c.category.not_in(excluded) if excluded else true())
            .order_by(alerts.c.last_seen)
            .limit(limit)
        )
        return [alert_from_row(r) for r in self.session.execute(query)]

    def latest_event_time(self) -> datetime | None:
        """The latest ``last_seen`` in the store: where the event clock resumes after a restart."""
        latest: datetime | None = self.session.scalar(select(func.max(alerts.c.last_seen)))
        return latest

    # -- event ids ------------------------------------------------------------------------
    def seen_event_ids(self, dedup_key: str, event_ids: Iterable[str]) -> set[str]:
        ids = list(event_ids)
        if not ids:
            return set()
        params = {"_key": dedup_key, "_ids": ids}
        return set(self.session.connection().scalars(_SELECT_SEEN, params))

    def record_events(
        self, alert: Alert, event_ids: Sequence[str], *, event_time: datetime, now: datetime
    ) -> None:
        """Remember ``event_ids`` under the alert's dedup key (the caller checked they are new)."""
        if event_ids:
            self.session.connection().execute(
                _INSERT_EVENTS,
                [
                    {
                        "dedup_key": alert.dedup_key,
                        "event_id": event_id,
                        "alert_id": alert.alert_id,
                        "event_time": utc(event_time),
                        "recorded_at": utc(now),
                    }
                    for event_id in event_ids
                ],
            )

    def event_ids_of(self, alert_id: str) -> list[str]:
        """Every event id recorded for the alert (the full list, not the bounded sample)."""
        query = (
            select(alert_events.c.event_id)
            .where(alert_events.c.alert_id == alert_id)
            .order_by(alert_events.c.event_time, alert_events.c.event_id)
        )
        return list(self.session.scalars(query))

    # -- audit trail ----------------------------------------------------------------------
    def add_history(
        self,
        alert: Alert,
        *,
        action: str,
        actor: str,
        at: datetime,
        from_status: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.session.execute(
            insert(alert_history).values(
                alert_id=alert.alert_id,
                at=utc(at),
                actor=actor,
                action=action,
                from_status=from_status,
                to_status=str(alert.status),
                revision=alert.revision,
                detail=detail or {},
            )
        )

    def history(self, alert_id: str) -> list[HistoryEntry]:
        query = (
            select(alert_history)
            .where(alert_history.c.alert_id == alert_id)
            .order_by(alert_history.c.id)
        )
        return [
            HistoryEntry(
                alert_id=r.alert_id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                from_status=r.from_status,
                to_status=r.to_status,
                revision=r.revision,
                detail=dict(r.detail),
            )
            for r in self.session.execute(query)
        ]

    # -- outbox ---------------------------------------------------------------------------
    def enqueue(
        self,
        alert: Alert,
        *,
        kind: ChangeKind,
        receivers: Iterable[tuple[str, str]],
        now: datetime,
    ) -> int:
        """Queue the change for each (receiver, group_key); a change already queued is skipped."""
        rows = [
            {
                "alert_id": alert.alert_id,
                "revision": alert.revision,
                "receiver": receiver,
                "kind": kind,
                "group_key": group_key,
                "payload": alert.to_cloudevent(kind),
                "created_at": utc(now),
                "attempts": 0,
                "next_attempt_at": utc(now),
            }
            for receiver, group_key in receivers
        ]
        if not rows:
            return 0
        queued = set(
            self.session.scalars(
                select(outbox.c.receiver).where(
                    outbox.c.alert_id == alert.alert_id,
                    outbox.c.revision == alert.revision,
                    outbox.c.repeat == 0,
                )
            )
        )
        rows = [r for r in rows if r["receiver"] not in queued]
        if rows:
            self.session.execute(insert(outbox), rows)
        return len(rows)

    def pending(
        self, *, now: datetime, limit: int = 100, receiver: str | None = None
    ) -> list[OutboxItem]:
        """Undelivered rows due at ``now``, oldest first."""
        query = select(outbox).where(
            outbox.c.delivered_at.is_(None), outbox.c.next_attempt_at <= utc(now)
        )
        if receiver is not None:
            query = query.where(outbox.c.receiver == receiver)
        query = query.order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit)
        return [
            OutboxItem(
                id=r.id,
                alert_id=r.alert_id,
                revision=r.revision,
                receiver=r.receiver,
                kind=r.kind,
                group_key=r.group_key,
                payload=dict(r.payload),
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at,
                created_at=r.created_at,
                repeat=r.repeat,
            )
            for r in self.session.execute(query)
        ]

    def mark_delivered(self, item_id: int, *, at: datetime) -> None:
        self.session.execute(
            update(outbox)
            .where(outbox.c.id == item_id)
            .values(delivered_at=utc(at), attempts=outbox.c.attempts + 1, last_error=None)
        )

    def mark_failed(self, item_id: int, *, error: str, retry_at: datetime) -> None:
        self.session.execute(
            update(outbox)
            .where(outbox.c.id == item_id)
            .values(
                attempts=outbox.c.attempts + 1,
                last_error=error[:2000],
                next_attempt_at=utc(retry_at),
            )
        )
