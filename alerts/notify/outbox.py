"""Claiming and settling outbox rows, safely with several dispatchers on one store.

A claim is a lease: in one short transaction the due rows are locked (PostgreSQL:
``FOR UPDATE SKIP LOCKED``, so racing dispatchers take disjoint rows; SQLite: ``BEGIN
IMMEDIATE`` serialises claimers), stamped with their notification batch and pushed
``lease`` into the future, and each row's ``attempts`` is raised by one. Sending happens
outside any transaction. Settling applies only while ``attempts`` is still the claimed value
(a fencing token): a dispatcher that outlived its lease cannot overwrite the next one's work,
and a delivered row is never claimed again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, bindparam, func, select, update
from sqlalchemy.orm import Session

from alerts.alert import utc
from alerts.routing import Route, RoutingTree
from alerts.store import writer
from alerts.store.tables import outbox


@dataclass(frozen=True, slots=True)
class Batch:
    """Outbox rows of one receiver and group, sent as one notification under ``key``."""

    key: str
    receiver: str
    group_key: str
    ids: tuple[int, ...]
    attempts: tuple[int, ...]
    events: tuple[dict[str, Any], ...]
    done_channels: frozenset[str]

    @property
    def attempt(self) -> int:
        return max(self.attempts)


_PENDING = and_(outbox.c.delivered_at.is_(None), outbox.c.dead_at.is_(None))
_SETTLE = (
    update(outbox)
    .where(
        outbox.c.id == bindparam("_id"),
        outbox.c.attempts == bindparam("_attempts"),
        outbox.c.delivered_at.is_(None),
    )
    .values(
        delivered_at=bindparam("_delivered_at"),
        dead_at=bindparam("_dead_at"),
        next_attempt_at=bindparam("_next"),
        last_error=bindparam("_error"),
        done_channels=bindparam("_done"),
    )
)


def routes_by_path(routing: RoutingTree) -> dict[str, Route]:
    found: dict[str, Route] = {}
    todo = [routing.root]
    while todo:
        node = todo.pop()
        found[node.path] = node
        todo.extend(node.routes)
    return found


class OutboxClaims:
    """Claims due batches for ``receivers`` and settles them; grouping timers from ``routing``."""

    def __init__(
        self,
        engine: Engine,
        *,
        receivers: Collection[str],
        lease: timedelta,
        routing: RoutingTree | None = None,
    ) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self.receivers = sorted(receivers)
        self.lease = lease
        self._routes = routes_by_path(routing) if routing is not None else {}

    def claim(self, *, now: datetime, limit: int) -> list[Batch]:
        """Lease up to ``limit`` due rows, grouped into batches; groups not ready are deferred."""
        if not self.receivers:
            return []
        now = utc(now)
        query = (
            select(
                outbox.c.id,
                outbox.c.receiver,
                outbox.c.group_key,
                outbox.c.payload,
                outbox.c.attempts,
                outbox.c.batch_key,
                outbox.c.done_channels,
                outbox.c.created_at,
            )
            .where(
                _PENDING,
                outbox.c.next_attempt_at <= now,
                outbox.c.receiver.in_(self.receivers),
            )
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with Session(self._writer) as session, session.begin():
            rows = session.execute(query).all()
            groups: dict[tuple[Any, ...], list[Any]] = {}
            for row in rows:
                # A row keeps the batch it was first sent in: its retries carry the same key.
                if row.batch_key:
                    ident: tuple[Any, ...] = ("batch", row.batch_key)
                elif self._routes:
                    ident = (row.receiver, row.group_key)
                else:  # no grouping: one notification per row
                    ident = ("row", row.id)
                groups.setdefault(ident, []).append(row)
            batches: list[Batch] = []
            for ident, members in groups.items():
                if ident[0] not in ("batch", "row"):
                    ready = self._ready_at(session, members)
                    if ready > now:
                        self._defer(session, [r.id for r in members], ready)
                        continue
                batches.append(self._lease(session, members, now))
        return batches

    def _ready_at(self, session: Session, members: Sequence[Any]) -> datetime:
        """When a fresh group may be sent: group_wait after its first row, or group_interval
        after the group's last notification (Alertmanager's timers)."""
        first = members[0]
        route = self._routes.get(first.group_key.split(":", 1)[0])
        if route is None:
            return min(utc(r.created_at) for r in members)
        group = (outbox.c.receiver == first.receiver, outbox.c.group_key == first.group_key)
        last_sent: datetime | None = session.scalar(
            select(func.max(outbox.c.delivered_at)).where(*group)
        )
        if last_sent is not None:
            return utc(last_sent) + route.group_interval
        # The group's first row still waiting (perhaps deferred already): rows joining later
        # are deferred to the same moment, so they go out together.
        first_created: datetime | None = session.scalar(
            select(func.min(outbox.c.created_at)).where(
                *group, _PENDING, outbox.c.batch_key.is_(None)
            )
        )
        return utc(first_created or first.created_at) + route.group_wait

    @staticmethod
    def _defer(session: Session, ids: list[int], until: datetime) -> None:
        session.execute(
            update(outbox).where(outbox.c.id.in_(ids), _PENDING).values(next_attempt_at=until)
        )

    def _lease(self, session: Session, members: Sequence[Any], now: datetime) -> Batch:
        first = members[0]
        key = first.batch_key or f"fenghuo-outbox-{min(r.id for r in members)}"
        ids = [r.id for r in members]
        session.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(
                attempts=outbox.c.attempts + 1,
                next_attempt_at=now + self.lease,
                batch_key=key,
            )
        )
        done: set[str] = set()
        for row in members:
            done.update(row.done_channels or ())
        return Batch(
            key=key,
            receiver=first.receiver,
            group_key=first.group_key,
            ids=tuple(ids),
            attempts=tuple(r.attempts + 1 for r in members),
            events=tuple(dict(r.payload) for r in members),
            done_channels=frozenset(done),
        )

    def settle(
        self,
        batch: Batch,
        *,
        now: datetime,
        done_channels: Collection[str],
        delivered: bool,
        dead: bool = False,
        retry_at: datetime | None = None,
        error: str | None = None,
    ) -> int:
        """Record the outcome of a claimed batch; returns the rows still held by this claim."""
        now = utc(now)
        params = [
            {
                "_id": row_id,
                "_attempts": attempts,
                "_delivered_at": now if delivered else None,
                "_dead_at": now if dead and not delivered else None,
                "_next": utc(retry_at) if retry_at is not None else now,
                "_error": None if delivered else (error or "")[:2000],
                "_done": sorted(done_channels),
            }
            for row_id, attempts in zip(batch.ids, batch.attempts, strict=True)
        ]
        with Session(self._writer) as session, session.begin():
            held = 0
            for one in params:
                held += session.connection().execute(_SETTLE, one).rowcount
        return held

    def backlog(self) -> int:
        """Rows of our receivers still to deliver (not delivered, not dead)."""
        if not self.receivers:
            return 0
        query = select(func.count()).where(_PENDING, outbox.c.receiver.in_(self.receivers))
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)


def requeue_dead(engine: Engine, *, now: datetime, receiver: str | None = None) -> int:
    """Give dead rows a fresh start (attempts 0, due now); they keep their batch key, so a
    receiver that got one before can still drop it. Returns the rows re-queued."""
    query = (
        update(outbox)
        .where(outbox.c.dead_at.is_not(None), outbox.c.delivered_at.is_(None))
        .values(dead_at=None, attempts=0, next_attempt_at=utc(now))
    )
    if receiver is not None:
        query = query.where(outbox.c.receiver == receiver)
    with Session(writer(engine)) as session, session.begin():
        done: Any = session.execute(query)
        return int(done.rowcount)
