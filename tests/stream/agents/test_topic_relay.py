"""The alert topic relay: produces what stayed unpublished past the grace, in commit order,
byte for byte as queued; marks it published; prunes after the retention (issue #9)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError

from alerts import AlertsConfig, StoreConfig, TopicOutboxConfig
from alerts.store import TopicRecord
from stream.agents.topic_relay import RelayPass, TopicRelay
from tests.stream.agents.kit import RecordingTopic, Worker, WorkerFactory
from tests.stream.agents.test_findings import finding

CONFIG = TopicOutboxConfig()
AFTER_GRACE = CONFIG.grace + timedelta(seconds=1)


@pytest.fixture
def worker(make_worker: WorkerFactory) -> Iterator[Worker]:
    made = make_worker()
    yield made
    made.ctx.alerts.close()


def relay_of(worker: Worker, **changes: object) -> TopicRelay:
    return TopicRelay(worker.ctx.alerts, CONFIG.model_copy(update=changes), worker.ctx.metrics)


def unpublished(worker: Worker) -> list[TopicRecord]:
    async def read() -> list[TopicRecord]:
        outbox = await worker.ctx.alerts.topic_outbox()
        return await worker.ctx.alerts.call_store(outbox.unpublished)

    return asyncio.run(read())


def orphan(worker: Worker, *event_ids: str) -> list[TopicRecord]:
    """Commit changes whose produce fails (as if the worker died after the commit)."""
    sink = worker.ctx.alerts
    sink.topic = RecordingTopic(fail=KafkaTimeoutError("gone"))  # type: ignore[assignment]
    for event_id in event_ids:
        asyncio.run(sink.handle([finding(event_id)], ingested_at=None))
    sink.topic = worker.alerts  # type: ignore[assignment]
    return unpublished(worker)


def relayed(worker: Worker) -> float:
    value = worker.metrics.get_sample_value("fenghuo_alerts_topic_outbox_relayed_total")
    return value or 0.0


def test_rows_past_the_grace_are_produced_in_commit_order_as_queued(worker: Worker) -> None:
    queued = orphan(worker, "loan-1", "loan-2", "loan-3")

    done = asyncio.run(relay_of(worker).run_once(datetime.now(UTC) + AFTER_GRACE))

    assert done == RelayPass(claimed=3, relayed=3, pruned=0, pending=0)
    assert [(s["key"], s["value"]) for s in worker.alerts.sent] == [
        (r.key.encode(), r.value.encode()) for r in queued
    ]
    assert relayed(worker) == 3


def test_rows_within_the_grace_are_left_to_the_sink(worker: Worker) -> None:
    orphan(worker, "loan-1")

    done = asyncio.run(relay_of(worker).run_once())

    assert done.claimed == 0
    assert worker.alerts.sent == []
    assert len(unpublished(worker)) == 1


def test_a_relayed_row_is_not_produced_again(worker: Worker) -> None:
    orphan(worker, "loan-1")
    relay = relay_of(worker)
    later = datetime.now(UTC) + AFTER_GRACE + CONFIG.lease

    asyncio.run(relay.run_once(later))
    again = asyncio.run(relay.run_once(later + CONFIG.lease))

    assert again.claimed == 0
    assert len(worker.alerts.sent) == 1


def test_a_pass_relays_batch_after_batch_until_nothing_is_due(worker: Worker) -> None:
    orphan(worker, "loan-1", "loan-2", "loan-3")

    done = asyncio.run(relay_of(worker, batch=2).run_once(datetime.now(UTC) + AFTER_GRACE))

    assert (done.claimed, done.relayed) == (3, 3)


def test_rows_the_broker_refuses_stay_pending_for_the_next_pass(worker: Worker) -> None:
    orphan(worker, "loan-1")
    worker.ctx.alerts.topic = RecordingTopic(fail=KafkaTimeoutError("still gone"))  # type: ignore[assignment]

    done = asyncio.run(relay_of(worker).run_once(datetime.now(UTC) + AFTER_GRACE))

    assert (done.claimed, done.relayed, done.pending) == (1, 0, 1)
    assert relayed(worker) == 0


def test_published_rows_are_pruned_after_the_retention_only(worker: Worker) -> None:
    asyncio.run(worker.ctx.alerts.handle([finding()], ingested_at=None))  # published at once
    relay = relay_of(worker)
    now = datetime.now(UTC)

    kept = asyncio.run(relay.run_once(now + CONFIG.retention - timedelta(minutes=1)))
    gone = asyncio.run(relay.run_once(now + CONFIG.retention + timedelta(minutes=1)))

    assert (kept.pruned, gone.pruned) == (0, 1)
    value = worker.metrics.get_sample_value("fenghuo_alerts_topic_outbox_pruned_total")
    assert value == 1


def test_the_pending_gauge_counts_unpublished_rows(worker: Worker) -> None:
    orphan(worker, "loan-1", "loan-2")

    asyncio.run(relay_of(worker).run_once())

    assert worker.metrics.get_sample_value("fenghuo_alerts_topic_outbox_pending") == 2


class HeldTopic(RecordingTopic):
    """Records sends; the broker acknowledges only when the test says so (``ack_all``)."""

    def __init__(self) -> None:
        super().__init__()
        self.acks: list[asyncio.Future[None]] = []

    async def send(self, **kwargs: Any) -> asyncio.Future[None]:
        self.sent.append(kwargs)
        self.acks.append(asyncio.get_running_loop().create_future())
        return self.acks[-1]

    def ack_all(self) -> None:
        for ack in self.acks:
            if not ack.done():
                ack.set_result(None)


@pytest.fixture
def held(make_worker: WorkerFactory) -> Iterator[tuple[Worker, HeldTopic]]:
    """A worker whose broker holds acknowledgements, with a grace of 50 ms."""
    grace = timedelta(milliseconds=50)
    config = AlertsConfig(
        store=StoreConfig(url="sqlite://"), topic_outbox=TopicOutboxConfig(grace=grace)
    )
    made = make_worker(alerts_config=config)
    topic = HeldTopic()
    made.ctx.alerts.topic = topic  # type: ignore[assignment]
    yield made, topic
    made.ctx.alerts.close()


def test_a_change_still_in_flight_is_not_sent_again(held: tuple[Worker, HeldTopic]) -> None:
    worker, topic = held
    relay = TopicRelay(
        worker.ctx.alerts, worker.ctx.settings.alerts.topic_outbox, worker.ctx.metrics
    )

    async def scenario() -> RelayPass:
        await worker.ctx.alerts.handle([finding()], ingested_at=None)
        return await relay.run_once(datetime.now(UTC) + timedelta(seconds=1))

    done = asyncio.run(scenario())

    assert (done.claimed, done.relayed, done.pending) == (1, 0, 1)
    assert len(topic.sent) == 1


def test_a_late_acknowledgement_is_marked_published_by_the_next_pass(
    held: tuple[Worker, HeldTopic],
) -> None:
    worker, topic = held
    relay = TopicRelay(
        worker.ctx.alerts, worker.ctx.settings.alerts.topic_outbox, worker.ctx.metrics
    )

    async def scenario() -> RelayPass:
        await worker.ctx.alerts.handle([finding()], ingested_at=None)
        topic.ack_all()
        await asyncio.sleep(0)  # the acknowledgement's callbacks run
        return await relay.run_once()

    done = asyncio.run(scenario())

    assert (done.claimed, done.pending) == (0, 0)
    assert len(topic.sent) == 1
