"""The reminder scan's store side on SQLite and PostgreSQL: due order, limit, index use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from alerts.store import writer
from alerts.store.reminders import Reminders, due_query
from alerts.store.tables import alerts, outbox
from tests.alerts.store._rows import alert_row

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def _store(engine: Engine, armed: list[datetime | None]) -> None:
    """One open alert with one delivered row per entry of ``armed`` (its ``repeat_at``)."""
    alert = alert_row("a-1", T0, dedup_key="usurious_rate:FJ-1:L-1", entity_id="L-1")
    rows = [
        {
            "alert_id": "a-1",
            "revision": 1,
            "receiver": f"r{n}",
            "kind": "opened",
            "group_key": "route:g",
            "payload": {},
            "created_at": T0,
            "next_attempt_at": T0,
            "delivered_at": T0,
            "repeat_at": at,
        }
        for n, at in enumerate(armed)
    ]
    with engine.begin() as connection:
        connection.execute(insert(alerts), alert)
        connection.execute(insert(outbox), rows)


def test_due_rows_come_earliest_first_up_to_the_limit(engine: Engine) -> None:
    hour = timedelta(hours=1)
    _store(engine, [T0 + 3 * hour, None, T0 + hour, T0 + 2 * hour, T0 + 9 * hour])
    with Session(writer(engine)) as session, session.begin():
        due = Reminders(session).due(now=T0 + 3 * hour, limit=2)
    assert [(a.receiver, a.repeat_at) for a in due] == [("r2", T0 + hour), ("r3", T0 + 2 * hour)]


def test_latest_names_the_newest_row_per_receiver(engine: Engine) -> None:
    _store(engine, [T0, T0])
    with Session(engine) as session:
        latest = Reminders(session).latest({"a-1"})
    assert sorted(latest) == [("a-1", "r0"), ("a-1", "r1")]
    assert latest[("a-1", "r1")] > latest[("a-1", "r0")]


def test_due_scan_is_a_range_of_the_partial_index(engine: Engine) -> None:
    _store(engine, [T0, None])
    query = due_query(now=T0, limit=500)
    with engine.connect() as connection:
        literal = {"literal_binds": True}
        sql = str(query.compile(dialect=connection.dialect, compile_kwargs=literal))
        if connection.dialect.name == "sqlite":
            found = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)
            plan = " ".join(str(r[-1]) for r in found)
            assert "USING INDEX ix_outbox_repeat_at (repeat_at>? AND repeat_at<?)" in plan
            assert "TEMP B-TREE" not in plan  # no sort: the index gives the order
        else:
            # A handful of rows: the planner would scan the table and sort; forbid that to see
            # whether the index serves the range and the order.
            for method in ("seqscan", "bitmapscan", "sort"):
                connection.exec_driver_sql(f"SET enable_{method} = off")
            plan = " ".join(str(r[0]) for r in connection.exec_driver_sql("EXPLAIN " + sql))
            assert "Index Scan using ix_outbox_repeat_at" in plan
            assert "Sort" not in plan  # the index gives the order
