"""A flood of hostile records interleaved with good ones: every good event still does its work.

One hostile record (every kind of ``stream.simulator.hostile`` in turn) follows each good one.
The worker must dead-letter each hostile record on its feed's ``.dlq`` topic, raise the alerts
the good events call for, commit every feed offset (no stall) and stay up. Behaviour only: the
rate under a flood is measured by ``python -m benchmarks.flood``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from models.history import HistoryRecord
from stream.admin import delete_topics, list_topics
from stream.settings import WorkerSettings
from stream.simulator import Simulation, SimulatorConfig
from stream.simulator.hostile import flood
from stream.simulator.producer import FeedProducer, feed_topics, prepare_topics
from tests.helpers import WaitTimeout, unique_name, wait_for
from tests.integration.test_pipeline_e2e import institution, loan
from tests.reliability._worker import Worker, read_topic

pytestmark = pytest.mark.kafka

LENDER = "FLOOD-MC-0001"
USURIOUS = 5
PER_FEED = 100
SECONDS = 60.0
FEEDS = ("institutions", "loans", "guarantees", "trades")


def good_records() -> list[HistoryRecord]:
    """A small simulated sector (its institutions and the first ``PER_FEED`` records of each
    other feed, in order), then a lender and loans above the rate cap (one alert each)."""
    sim = Simulation(SimulatorConfig(seed=13, events=3000, institutions=60, scenarios=0))
    taken: Counter[str] = Counter()
    sector = []
    for record in sim.records():
        if record.topic == "institutions" or taken[record.topic] < PER_FEED:
            taken[record.topic] += 1
            sector.append(record)
    usury = [
        HistoryRecord("loans", LENDER, loan(f"flood-usury-{n}", LENDER, annual_rate=0.3))
        for n in range(USURIOUS)
    ]
    lender = HistoryRecord("institutions", LENDER, institution(LENDER, "microcredit"))
    return [*sector, lender, *usury]


@pytest.fixture
def worker(kafka_broker: str, tmp_path: Path) -> Iterator[Worker]:
    run = Worker(kafka_broker, "-" + unique_name("flood"), tmp_path)
    yield run
    run.stop()
    delete_topics(kafka_broker, [t for t in list_topics(kafka_broker) if run.suffix in t])


def end_offsets(bootstrap: str, topics: list[str]) -> dict[str, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        ends = consumer.end_offsets(partitions)
    finally:
        consumer.close()
    return {t: sum(v for tp, v in ends.items() if tp.topic == t) for t in topics}


def committed(bootstrap: str, worker: Worker) -> dict[str, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets({worker.app_id: None}).get(worker.app_id, {})
    finally:
        admin.close()
    found: Counter[str] = Counter()
    for tp, meta in offsets.items():
        found[tp.topic] += max(meta.offset, 0)
    return dict(found)


def test_a_flood_of_hostile_records_dead_letters_each_and_keeps_every_good_alert(
    kafka_broker: str, worker: Worker
) -> None:
    records = good_records()
    mixed = list(flood(records, 1.0, random.Random(13)))
    hostile = Counter(topic for (topic, _, _), is_good in mixed if not is_good)
    settings = WorkerSettings()
    prepare_topics(settings, kafka_broker, worker.suffix)
    worker.start()
    with FeedProducer(kafka_broker, feed_topics(settings, worker.suffix)) as producer:
        for (topic, key, value), _ in mixed:
            producer.send(topic, key, value)
    wanted = {f"usurious_rate:{LENDER}:LOAN-flood-usury-{n}".encode() for n in range(USURIOUS)}
    dlq = [worker.topic(feed) + ".dlq" for feed in FEEDS]
    feeds = [worker.topic(feed) for feed in FEEDS]

    def alerted(got: list[Any]) -> bool:
        return wanted <= {record.key for record in got}

    try:
        read_topic(kafka_broker, worker.topic("alerts"), alerted, SECONDS)
        wait_for(lambda: sum(end_offsets(kafka_broker, dlq).values()) >= hostile.total(), SECONDS)
        ends = end_offsets(kafka_broker, feeds)
        wait_for(lambda: all(committed(kafka_broker, worker).get(t) == ends[t] for t in feeds))
    except WaitTimeout as error:
        pytest.fail(f"{error}; worker log tail:\n{worker.tail()}")

    assert producer.failed == 0
    assert hostile.total() == len(records) and len(hostile) == len(FEEDS)
    assert end_offsets(kafka_broker, dlq) == {worker.topic(f) + ".dlq": hostile[f] for f in FEEDS}
    assert worker.alive(), worker.tail()
