"""AlertSink: committed changes are produced at once and marked published on the broker's
acknowledgement; what is not acknowledged stays queued for the relay (issue #9)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from kafka.errors import KafkaTimeoutError

from alerts import AlertsConfig, StoreConfig, TopicOutboxConfig
from alerts.store import TopicRecord
from tests.stream.agents.kit import RecordingTopic, Worker, WorkerFactory
from tests.stream.agents.test_findings import finding


@pytest.fixture
def worker(make_worker: WorkerFactory) -> Iterator[Worker]:
    made = make_worker()
    yield made
    made.ctx.alerts.close()


def unpublished(worker: Worker) -> list[TopicRecord]:
    async def read() -> list[TopicRecord]:
        outbox = await worker.ctx.alerts.topic_outbox()
        return await worker.ctx.alerts.call_store(outbox.unpublished)

    return asyncio.run(read())


class UnansweredTopic(RecordingTopic):
    """Records the send; the broker never acknowledges it."""

    async def send(self, **kwargs: Any) -> asyncio.Future[None]:
        self.sent.append(kwargs)
        return asyncio.get_running_loop().create_future()


def test_an_acknowledged_change_is_marked_published(worker: Worker) -> None:
    asyncio.run(worker.ctx.alerts.handle([finding()], ingested_at=None))

    assert len(worker.alerts.sent) == 1
    assert unpublished(worker) == []


def test_a_failed_produce_leaves_the_change_queued_and_fails_nothing(worker: Worker) -> None:
    worker.ctx.alerts.topic = RecordingTopic(fail=KafkaTimeoutError("broker away"))  # type: ignore[assignment]

    changes = asyncio.run(worker.ctx.alerts.handle([finding()], ingested_at=None))

    assert changes == 1
    assert [r.kind for r in unpublished(worker)] == ["opened"]


@pytest.fixture
def unanswered(make_worker: WorkerFactory) -> Iterator[Worker]:
    """A worker whose broker never acknowledges, with a grace of 50 ms."""
    config = AlertsConfig(
        store=StoreConfig(url="sqlite://"),
        topic_outbox=TopicOutboxConfig(grace=timedelta(milliseconds=50)),
    )
    made = make_worker(alerts_config=config)
    made.ctx.alerts.topic = UnansweredTopic()  # type: ignore[assignment]
    yield made
    made.ctx.alerts.close()


def test_a_change_not_acknowledged_within_the_grace_stays_queued(unanswered: Worker) -> None:
    asyncio.run(unanswered.ctx.alerts.handle([finding()], ingested_at=None))

    assert [r.kind for r in unpublished(unanswered)] == ["opened"]


def test_the_record_produced_is_the_one_queued_in_the_store(unanswered: Worker) -> None:
    asyncio.run(unanswered.ctx.alerts.handle([finding()], ingested_at=None))

    [sent] = unanswered.ctx.alerts.topic.sent  # type: ignore[attr-defined]
    [queued] = unpublished(unanswered)
    assert sent["key"] == queued.key.encode()
    assert sent["value"] == queued.value.encode()
    assert orjson.loads(sent["value"])["id"] == queued.cloudevent_id
