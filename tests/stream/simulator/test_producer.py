"""Producing a simulated history to a real broker and reading it back."""

from __future__ import annotations

import json

import pytest

from stream.settings import WorkerSettings
from stream.simulator import Simulation, SimulatorConfig
from stream.simulator.producer import FeedProducer, feed_topics, prepare_topics
from tests.fixtures.kafka import ConsumerFactory
from tests.helpers import consume, unique_name

pytestmark = pytest.mark.kafka


def test_simulated_records_arrive_on_their_feed_topics_under_their_keys(
    kafka_broker: str, kafka_consumer: ConsumerFactory
) -> None:
    records = list(Simulation(SimulatorConfig(seed=9, institutions=60, events=400)).records())
    settings = WorkerSettings()
    suffix = "-" + unique_name("sim")
    prepare_topics(settings, kafka_broker, suffix)
    topics = feed_topics(settings, suffix)
    with FeedProducer(kafka_broker, topics) as producer:
        producer.send_all(records)
    assert producer.failed == 0
    consumer = kafka_consumer(*topics.values())
    got = consume(consumer, len(records), timeout=60)
    by_topic = {name: feed for feed, name in topics.items()}
    sent = {(r.topic, r.key, r.value["event_id"]) for r in records}
    received = {(by_topic[m.topic], m.key.decode(), json.loads(m.value)["event_id"]) for m in got}
    assert received == sent
