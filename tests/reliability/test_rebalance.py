"""Two workers in one group, the second joining mid-stream: every source topic is committed to
its end, within a bounded time.

A rebalance used to leave the single-partition ``findings`` topic committed short of its end
for good (offsets fetched before the rebalance never acked, so Faust could not commit past
them). The second worker joins while the first is still working through the preloaded feeds,
so findings, re-keyed loans and feed messages are in flight when the partitions move.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from stream.admin import delete_topics, list_topics
from tests.helpers import WaitTimeout, unique_name, wait_for
from tests.reliability._worker import Worker, send, simulated

pytestmark = pytest.mark.kafka
log = logging.getLogger(__name__)

SIMULATED_EVENTS = 3000
DRAIN_SECONDS = 150.0
#: Topics the workers consume: each must be committed to its end once the feeds are done.
SOURCES = ("institutions", "loans", "guarantees", "trades", "loans-by-borrower",
           "guarantee-network", "findings")  # fmt: skip


def end_offsets(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(parts).values())
    finally:
        consumer.close()


def uncommitted(worker: Worker) -> dict[str, int]:
    """Messages per source topic not yet committed by the group (none when drained)."""
    behind = {
        name: end_offsets(worker.bootstrap, worker.topic(name)) - worker.committed(name)
        for name in SOURCES
    }
    return {name: n for name, n in behind.items() if n}


def test_two_workers_commit_every_source_topic_to_its_end_after_a_rebalance(
    kafka_broker: str, tmp_path: Path
) -> None:
    suffix = "-" + unique_name("rebal")
    first = Worker(kafka_broker, suffix, tmp_path / "first")
    second = Worker(kafka_broker, suffix, tmp_path / "second")
    first.tmp.mkdir()
    second.tmp.mkdir()
    records, _ = simulated(31, SIMULATED_EVENTS)
    producer = KafkaProducer(bootstrap_servers=kafka_broker, linger_ms=5)
    try:
        first.start()
        send(producer, first, records)
        wait_for(
            lambda: first.committed("findings") > 0,
            DRAIN_SECONDS,
            interval=0.2,
            message="the first worker committed no finding",
        )
        second.start()  # joins mid-stream: the group rebalances
        try:
            wait_for(lambda: not uncommitted(first), DRAIN_SECONDS, interval=1.0)
        except WaitTimeout:
            pytest.fail(
                f"not committed to the end: {uncommitted(first)}\n"
                f"first worker:\n{first.tail()}\nsecond worker:\n{second.tail()}"
            )
        assert first.alive() and second.alive()
    finally:
        producer.close(timeout=10)
        first.stop()
        second.stop()
        delete_topics(kafka_broker, [t for t in list_topics(kafka_broker) if suffix in t])
