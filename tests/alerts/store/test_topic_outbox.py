"""The ``alerts`` topic's outbox on SQLite and PostgreSQL: rows written in the change's
transaction, claimed past their grace in commit order (leased), marked, pruned (issue #9)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session

from alerts import AlertChange, AlertPipeline, AlertsConfig, TopicOutboxConfig
from alerts.store import TopicOutbox, TopicRecord
from alerts.store.tables import alerts, topic_outbox
from models import Category
from tests.alerts.conftest import T0, Clock, FindingFactory

GRACE = timedelta(seconds=10)
LEASE = timedelta(seconds=60)


@pytest.fixture
def publishing(config: AlertsConfig, clock: Clock) -> Iterator[AlertPipeline]:
    """A pipeline that queues its changes for the ``alerts`` topic, as the worker's does."""
    config = config.model_copy(update={"topic_outbox": TopicOutboxConfig(grace=GRACE)})
    built = AlertPipeline.from_config(config, clock=clock, topic_outbox=True)
    yield built
    built.close()


def changes_of(pipeline: AlertPipeline, finding: FindingFactory, count: int) -> list[AlertChange]:
    """``count`` changes of one alert: opened, then updated by new events."""
    changes: list[AlertChange] = []
    for n in range(count):
        changes += pipeline.handle(finding(event_ids=(f"e{n}",), minutes=n))
    return changes


def rows(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as session:
        query = select(topic_outbox).order_by(topic_outbox.c.id)
        return [dict(r._mapping) for r in session.execute(query)]


def test_each_change_is_queued_with_the_cloudevent_and_key_it_is_produced_with(
    publishing: AlertPipeline, finding: FindingFactory
) -> None:
    changes = changes_of(publishing, finding, 2)

    queued = TopicOutbox(publishing.engine).unpublished()

    assert [c.kind for c in changes] == ["opened", "updated"]
    assert queued == [TopicRecord.of(c) for c in changes]
    assert [orjson.loads(r.value) for r in queued] == [c.cloudevent() for c in changes]
    assert [r.key for r in queued] == ["usurious_rate:FJ-MC-0007:L-0001"] * 2
    assert [r.cloudevent_id for r in queued] == [
        f"{c.alert.alert_id}.{c.alert.revision}" for c in changes
    ]


def test_the_changes_carry_the_bytes_of_their_rows_so_the_produce_does_not_encode_again(
    publishing: AlertPipeline, finding: FindingFactory
) -> None:
    changes = changes_of(publishing, finding, 2)

    queued = TopicOutbox(publishing.engine).unpublished()

    assert [c.encoded for c in changes] == [r.value for r in queued]


def test_a_row_may_be_relayed_only_after_the_grace(
    publishing: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    publishing.handle(finding())

    [row] = rows(publishing.engine)

    assert row["created_at"] == clock.now
    assert row["relay_at"] == clock.now + GRACE
    assert row["published_at"] is None


def test_a_pipeline_without_the_topic_outbox_queues_nothing(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    assert pipeline.handle(finding())

    assert TopicOutbox(pipeline.engine).pending() == 0


def test_quiet_resolutions_of_a_tick_are_queued(
    publishing: AlertPipeline, finding: FindingFactory
) -> None:
    publishing.handle(finding())
    publishing.handle(
        finding(event_ids=("late",), category=Category.LENDING_SURGE, minutes=60 * 25)
    )

    resolved = [c for c in publishing.tick() if c.kind == "resolved"]

    assert len(resolved) == 1
    kinds = [r.kind for r in TopicOutbox(publishing.engine).unpublished()]
    assert kinds == ["opened", "opened", "resolved"]


def test_a_change_is_not_committed_when_its_row_cannot_be(
    publishing: AlertPipeline, finding: FindingFactory
) -> None:
    """The alert and its row are one transaction: failing the row's insert loses both."""

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TOPIC_OUTBOX"):
            raise RuntimeError("topic_outbox refused")

    event.listen(publishing.engine, "before_cursor_execute", refuse)
    try:
        with pytest.raises(RuntimeError, match="topic_outbox refused"):
            publishing.handle(finding())
    finally:
        event.remove(publishing.engine, "before_cursor_execute", refuse)

    with Session(publishing.engine) as session:
        assert session.scalar(select(func.count()).select_from(alerts)) == 0
    assert rows(publishing.engine) == []


def test_claim_takes_only_rows_past_their_grace(
    publishing: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    publishing.handle(finding())
    outbox = TopicOutbox(publishing.engine)

    early = outbox.claim(now=clock.now + GRACE - timedelta(seconds=1), limit=10, lease=LEASE)
    due = outbox.claim(now=clock.now + GRACE, limit=10, lease=LEASE)

    assert early == []
    assert len(due) == 1


def test_claim_takes_rows_in_commit_order_up_to_the_limit(
    publishing: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    changes = changes_of(publishing, finding, 3)
    outbox = TopicOutbox(publishing.engine)
    later = clock.now + GRACE

    first = outbox.claim(now=later, limit=2, lease=LEASE)
    rest = outbox.claim(now=later, limit=2, lease=LEASE)

    assert [r.revision for r in first] == [c.alert.revision for c in changes[:2]]
    assert [r.revision for r in rest] == [changes[2].alert.revision]


def test_a_claimed_row_is_taken_again_only_after_its_lease(
    publishing: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    publishing.handle(finding())
    outbox = TopicOutbox(publishing.engine)
    at = clock.now + GRACE
    outbox.claim(now=at, limit=10, lease=LEASE)

    assert outbox.claim(now=at + LEASE - timedelta(seconds=1), limit=10, lease=LEASE) == []
    assert len(outbox.claim(now=at + LEASE, limit=10, lease=LEASE)) == 1


def test_a_published_row_is_never_claimed_again(
    publishing: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    changes = changes_of(publishing, finding, 2)
    outbox = TopicOutbox(publishing.engine)

    outbox.mark_published([TopicRecord.of(changes[0])], now=clock.now)

    assert outbox.pending() == 1
    later = clock.now + GRACE + LEASE
    assert [r.revision for r in outbox.claim(now=later, limit=10, lease=LEASE)] == [2]


def test_marking_a_row_again_keeps_its_first_publication(
    publishing: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    [change] = publishing.handle(finding())
    outbox = TopicOutbox(publishing.engine)

    outbox.mark_published([TopicRecord.of(change)], now=clock.now)
    outbox.mark_published([TopicRecord.of(change)], now=clock.now + timedelta(hours=1))

    assert [r["published_at"] for r in rows(publishing.engine)] == [clock.now]


def _published_at(engine: Engine, times: list[Any]) -> None:
    ids = [r["id"] for r in rows(engine)]
    with engine.begin() as connection:
        for row_id, at in zip(ids, times, strict=True):
            connection.execute(
                update(topic_outbox).where(topic_outbox.c.id == row_id).values(published_at=at)
            )


def test_prune_deletes_only_rows_published_before_the_cutoff(
    publishing: AlertPipeline, finding: FindingFactory
) -> None:
    changes_of(publishing, finding, 3)
    cutoff = T0 + timedelta(days=7)
    _published_at(publishing.engine, [cutoff - timedelta(seconds=1), cutoff, None])

    pruned = TopicOutbox(publishing.engine).prune(before=cutoff, limit=10)

    assert pruned == 1
    assert [r["revision"] for r in rows(publishing.engine)] == [2, 3]


def test_prune_deletes_at_most_the_limit(
    publishing: AlertPipeline, finding: FindingFactory
) -> None:
    changes_of(publishing, finding, 3)
    _published_at(publishing.engine, [T0, T0, T0])

    pruned = TopicOutbox(publishing.engine).prune(before=T0 + timedelta(days=1), limit=2)

    assert pruned == 2
    assert len(rows(publishing.engine)) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_claims_in_flight_take_disjoint_rows_on_postgresql(
    publishing: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    """A relay whose claim is still open holds its rows (``SKIP LOCKED``): another takes the
    rest instead of waiting or taking the same ones."""
    changes_of(publishing, finding, 3)
    later = clock.now + GRACE
    holder = Session(publishing.engine)
    try:
        with holder.begin():
            held = holder.execute(
                select(topic_outbox.c.revision)
                .order_by(topic_outbox.c.id)
                .limit(2)
                .with_for_update()
            ).all()
            claimed = TopicOutbox(publishing.engine).claim(now=later, limit=10, lease=LEASE)
    finally:
        holder.close()

    assert [r.revision for r in held] == [1, 2]
    assert [r.revision for r in claimed] == [3]
