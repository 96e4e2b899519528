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

from sqlalchemy import Engine, and_, bindparam, case, func, null, select, update
from sqlalchemy.orm import Session

from alerts.alert import utc
from alerts.notify.notification import REPEAT_ATTRIBUTE
from alerts.routing import Route, RoutingTree
from alerts.store import writer
from alerts.store.tables import UTCDateTime, outbox


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


@dataclass(frozen=True, slots=True)
class Outcome:
    """How sending a batch went: delivered, or failed (then dead, or retried at ``retry_at``)."""

    batch: Batch
    done_channels: frozenset[str]
    delivered: bool
    dead: bool = False
    retry_at: datetime | None = None
    error: str | None = None


_PENDING = and_(outbox.c.delivered_at.is_(None), outbox.c.dead_at.is_(None))
_LEASE = (
    update(outbox)
    .where(outbox.c.id == bindparam("_id"))
    .values(attempts=outbox.c.attempts + 1, batch_key=bindparam("_key"))
)
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
        # A delivered notification of an open alert is armed: the pipeline's tick schedules
        # its reminder (repeat_interval) from here.
        repeat_at=case(
            (outbox.c.kind == "resolved", null()),
            else_=bindparam("_delivered_at", type_=UTCDateTime()),
        ),
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


def _marked(payload: dict[str, Any], repeat: int) -> dict[str, Any]:
    """The row's CloudEvent; a reminder carries its number as the ``fenghuorepeat``
    extension attribute, so every channel can say so."""
    event = dict(payload)
    if repeat:
        event[REPEAT_ATTRIBUTE] = repeat
    return event


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
                outbox.c.repeat,
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
                batches.append(self._lease(members))
            leases = [
                {"_id": row_id, "_key": batch.key} for batch in batches for row_id in batch.ids
            ]
            if leases:  # one statement for the round (executemany)
                session.connection().execute(
                    _LEASE.values(next_attempt_at=now + self.lease), leases
                )
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

    def _lease(self, members: Sequence[Any]) -> Batch:
        first = members[0]
        done: set[str] = set()
        for row in members:
            done.update(row.done_channels or ())
        return Batch(
            key=first.batch_key or f"fenghuo-outbox-{min(r.id for r in members)}",
            receiver=first.receiver,
            group_key=first.group_key,
            ids=tuple(r.id for r in members),
            attempts=tuple(r.attempts + 1 for r in members),
            events=tuple(_marked(r.payload, r.repeat) for r in members),
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
        """Record the outcome of one claimed batch; returns the rows still held by the claim."""
        outcome = Outcome(batch, frozenset(done_channels), delivered, dead, retry_at, error)
        return self.settle_all([outcome], now=now)[0]

    def settle_all(self, outcomes: Sequence[Outcome], *, now: datetime) -> list[int]:
        """Record a round's outcomes in one transaction; per outcome, the rows still held."""
        now = utc(now)
        params = [
            {
                "_id": row_id,
                "_attempts": attempts,
                "_delivered_at": now if outcome.delivered else None,
                "_dead_at": now if outcome.dead and not outcome.delivered else None,
                "_next": utc(outcome.retry_at) if outcome.retry_at else now,
                "_error": None if outcome.delivered else (outcome.error or "")[:2000],
                "_done": sorted(outcome.done_channels),
            }
            for outcome in outcomes
            for row_id, attempts in zip(outcome.batch.ids, outcome.batch.attempts, strict=True)
        ]
        if not params:
            return [0 for _ in outcomes]
        with Session(self._writer) as session, session.begin():
            db = session.connection()
            total = db.execute(_SETTLE, params).rowcount  # one executemany for the round
            if total == len(params):
                return [len(o.batch.ids) for o in outcomes]
            # A lease expired somewhere: find which rows this claim still held.
            ours = {(p["_id"], p["_attempts"]) for p in params}
            written = db.execute(
                select(outbox.c.id, outbox.c.attempts).where(
                    outbox.c.id.in_([p["_id"] for p in params])
                )
            ).all()
        # Another claimer would have raised ``attempts``: rows still at ours were ours.
        held_ids = {row.id for row in written if (row.id, row.attempts) in ours}
        return [sum(1 for i in o.batch.ids if i in held_ids) for o in outcomes]

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
