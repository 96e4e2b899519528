"""Read-side queries of the regulator API: scoped pages, grouped counts and the change feed.

Every query here takes an ``AlertQuery``: the repository's ``AlertFilter`` plus the caller's
agency scope (the receivers whose alerts it may see) and free text over entity ids. The scope
is a condition of the SQL itself, so no count, page or change of another agency's alert is
ever read. Values are bound parameters; the only literal is the validated bucket width.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Integer,
    and_,
    cast,
    exists,
    extract,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

from alerts.alert import Alert
from alerts.store.repository import (
    AlertFilter,
    AlertRepository,
    HistoryEntry,
    Page,
    SortKey,
    alert_from_row,
    decode_cursor,
    encode_cursor,
)
from alerts.store.tables import alert_history, alert_routes, alerts

GroupKey = Literal["category", "severity", "region_code", "status", "institution_type", "feed"]
TimeColumn = Literal["first_seen", "last_seen"]


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """What one caller asks for: ``where``, within ``scope`` (None: every alert), with ``text``.

    ``scope`` lists the receivers whose alerts are visible; an empty scope sees nothing.
    ``text`` matches a substring of ``entity_id`` or ``institution_id``, ignoring case.
    """

    where: AlertFilter = field(default_factory=AlertFilter)
    scope: frozenset[str] | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class CountRow:
    """Alerts of one group (and time bucket): how many, and the highest score among them."""

    bucket_start: datetime | None
    key: str | None
    count: int
    max_score: float


@dataclass(frozen=True, slots=True)
class Change:
    """One audited change (its history id orders the feed) and the alert as it is now."""

    change_id: int
    entry: HistoryEntry
    alert: Alert


def _routed_to(receivers: Collection[str]) -> Any:
    # An alias: the page may already join alert_routes (the receiver index) for the scope.
    routes = alert_routes.alias("routed_to")
    return exists().where(
        routes.c.alert_id == alerts.c.alert_id, routes.c.receiver.in_(sorted(receivers))
    )


def _matches_text(text: str) -> Any:
    needle = text.lower()
    return or_(
        func.lower(alerts.c.entity_id).contains(needle, autoescape=True),
        func.lower(alerts.c.institution_id).contains(needle, autoescape=True),
    )


def conditions(query: AlertQuery, column: Any) -> list[Any]:
    """The SQL conditions of ``query``; ``column`` is the time column ``since``/``until`` bound."""
    found = AlertRepository._conditions(query.where, column)
    if query.scope is not None:
        found.append(_routed_to(query.scope))
    if query.text:
        found.append(_matches_text(query.text))
    return found


def _epoch(column: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.floor(extract("epoch", column)), BigInteger)


class AlertReader:
    """Scoped reads for the API, in the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, alert_id: str, *, scope: frozenset[str] | None) -> Alert | None:
        """The alert if it exists and is visible in ``scope``; a foreign alert is None too."""
        query = select(alerts).where(alerts.c.alert_id == alert_id)
        if scope is not None:
            query = query.where(_routed_to(scope))
        row = self.session.execute(query).first()
        return alert_from_row(row) if row else None

    def page(
        self,
        query: AlertQuery,
        *,
        limit: int,
        cursor: str | None = None,
        sort: SortKey = "last_seen",
    ) -> Page:
        """Newest first in (``sort``, ``alert_id``) order; the cursor is the last row's key.

        A caller of one agency reads through the repository's receiver index (the scope
        becomes the receiver filter; a ``route`` filter then narrows it further).
        """
        where = query.where
        extra: list[Any] = []
        if query.scope is not None:
            if where.receivers is not None:
                extra.append(_routed_to(where.receivers))
            where = replace(where, receivers=query.scope)
        if query.text:
            extra.append(_matches_text(query.text))
        statement, column, id_column = AlertRepository._source(where, sort)
        statement = statement.where(*extra)
        if cursor:
            when, alert_id = decode_cursor(cursor)
            statement = statement.where(
                or_(column < when, and_(column == when, id_column < alert_id))
            )
        statement = statement.order_by(column.desc(), id_column.desc()).limit(limit + 1)
        found = [alert_from_row(r) for r in self.session.execute(statement)]
        items = found[:limit]
        last = items[-1] if len(found) > limit else None
        next_cursor = encode_cursor(getattr(last, sort), last.alert_id) if last else None
        return Page(items, next_cursor)

    def counts(
        self,
        query: AlertQuery,
        *,
        by: GroupKey | None = None,
        bucket_seconds: int | None = None,
        time_column: TimeColumn = "first_seen",
    ) -> list[CountRow]:
        """Alert counts grouped by ``by`` and by ``bucket_seconds``-wide buckets of
        ``time_column`` (UTC epoch-aligned); either grouping may be left out."""
        column = alerts.c[time_column]
        selected: list[Any] = []
        groups: list[Any] = []
        if bucket_seconds is not None:
            width: Any = literal_column(str(int(bucket_seconds)))
            dialect = self.session.get_bind().dialect.name
            bucket = ((_epoch(column, dialect) // width) * width).label("bucket")
            selected.append(bucket)
            groups.append(bucket)
        if by is not None:
            selected.append(alerts.c[by].label("key"))
            groups.append(alerts.c[by])
        statement = (
            select(*selected, func.count().label("n"), func.max(alerts.c.score).label("top"))
            .select_from(alerts)
            .where(*conditions(query, column))
            .group_by(*groups)
            .order_by(*groups)
        )
        rows = []
        for row in self.session.execute(statement):
            m = row._mapping
            start = m.get("bucket") if bucket_seconds is not None else None
            rows.append(
                CountRow(
                    bucket_start=None if start is None else datetime.fromtimestamp(start, UTC),
                    key=m.get("key") if by is not None else None,
                    count=int(m["n"]),
                    max_score=float(m["top"] or 0.0),
                )
            )
        return rows

    def changes_after(self, query: AlertQuery, after: int, *, limit: int = 100) -> list[Change]:
        """Audited changes with history id above ``after``, of alerts matching ``query``."""
        h = alert_history.c
        statement = (
            select(
                h.id.label("change_id"),
                h.at.label("change_at"),
                h.actor.label("change_actor"),
                h.action.label("change_action"),
                h.from_status.label("change_from"),
                h.to_status.label("change_to"),
                h.revision.label("change_revision"),
                h.detail.label("change_detail"),
                alerts,
            )
            .select_from(alert_history.join(alerts, alerts.c.alert_id == h.alert_id))
            .where(h.id > after, *conditions(query, alerts.c.last_seen))
            .order_by(h.id)
            .limit(limit)
        )
        changes = []
        for row in self.session.execute(statement):
            m = row._mapping
            entry = HistoryEntry(
                alert_id=m["alert_id"],
                at=m["change_at"],
                actor=m["change_actor"],
                action=m["change_action"],
                from_status=m["change_from"],
                to_status=m["change_to"],
                revision=m["change_revision"],
                detail=dict(m["change_detail"]),
            )
            changes.append(Change(int(m["change_id"]), entry, alert_from_row(row)))
        return changes

    def last_change_id(self) -> int:
        """The newest history id (0 for an empty store): where a fresh stream starts."""
        return int(self.session.scalar(select(func.max(alert_history.c.id))) or 0)
