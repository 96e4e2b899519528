"""Where the worker's own records go out: straight to the app's Kafka producer.

Faust's ``Topic.send`` wraps each record in a ``FutureMessage``, queues it on the producer
buffer and runs its sensors and callbacks before the record reaches aiokafka: about 190 µs of
CPU a record on the benchmark machine, against 80 µs for the producer's own ``send``
(docs/benchmarks.md). The worker produces most of its records itself (re-keyed events,
findings, dead letters, alerts), so an ``Outlet`` hands them to the producer directly. The
guarantees are the same: the records sit in the one producer that Faust flushes, queued and
in flight, before every offset commit (``Producer.flush`` waits on aiokafka's own flush), and a
record whose delivery fails after the producer's retries is logged, as Faust's path did.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

from faust.types import TopicT

from stream.topics import Topics

log = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]


class Outlet:
    """Sends records to one topic through its app's producer, skipping Faust's buffer.

    Keyword arguments as ``Topic.send``; returns the delivery future (awaiting it
    waits for the broker's acknowledgement).
    """

    def __init__(self, topic: TopicT) -> None:
        self.topic = topic
        self.name = topic.get_topic_name()

    async def send(
        self,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: Headers | None = None,
        partition: int | None = None,
    ) -> asyncio.Future[Any]:
        producer = self.topic.app.producer
        sent = await producer.send(self.name, key, value, partition, None, headers)
        return watch_delivery(sent, self.name)


def watch_delivery(sent: Awaitable[Any], topic: str) -> asyncio.Future[Any]:
    """The producer's delivery future for a record, logged at ERROR if the broker never takes
    it (after the producer's own retries): nobody else awaits most of them."""
    delivery = asyncio.ensure_future(sent)  # aiokafka's future, typed as an awaitable

    def delivered(done: asyncio.Future[Any]) -> None:
        if not done.cancelled() and done.exception() is not None:
            log.error("a record for %s was not delivered: %r", topic, done.exception())

    delivery.add_done_callback(delivered)
    return delivery


@dataclass(frozen=True)
class Outlets:
    """The topics the worker produces to, as outlets (``Topics`` keeps the Faust topics the
    agents consume)."""

    loans_by_borrower: Outlet
    guarantee_network: Outlet
    findings: Outlet
    alerts: Outlet
    dead_letters: Mapping[str, Outlet]

    @classmethod
    def of(cls, topics: Topics) -> Outlets:
        """Outlets for the topics of ``topics`` the worker produces to."""
        return cls(
            loans_by_borrower=Outlet(topics.loans_by_borrower),
            guarantee_network=Outlet(topics.guarantee_network),
            findings=Outlet(topics.findings),
            alerts=Outlet(topics.alerts),
            dead_letters={source: Outlet(t) for source, t in topics.dead_letters.items()},
        )
