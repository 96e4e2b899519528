"""Regression (issue #9, docs/reliability.md Known gaps 2): an alert change committed to the
store whose CloudEvent was never produced reaches the ``alerts`` topic, exactly once.

The window is reproduced without a mock: the change is written through the real pipeline
(``AlertPipeline``, as the worker's sink builds it) into the worker's SQLite store, with its
``topic_outbox`` row, and nothing is produced: the state a ``kill -9`` between the store
commit and the produce leaves behind (a replayed finding would change nothing more, its event
ids being known). Then a real ``fenghuo worker`` starts on that store and a real broker.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from alerts import AlertChange, AlertPipeline, AlertsConfig, StoreConfig, TopicOutboxConfig
from alerts.store import TopicRecord
from models import Category, DetectorKind, DetectorRef, EntityType, Feed, Finding, Severity
from models.contract import contract_errors
from stream.admin import delete_topics, list_topics
from tests.helpers import unique_name, wait_for
from tests.integration.test_pipeline_e2e import institution, loan
from tests.reliability._worker import REPO, Worker, cloudevents, read_topic, send

pytestmark = pytest.mark.kafka

ALERTS_SECONDS = 90.0
LENDER = "OUTBOX-MC-0001"
LIVE_KEY = f"usurious_rate:{LENDER}:LOAN-outbox-live"


@dataclass
class OutboxRun:
    worker: Worker
    orphan: AlertChange
    records: list[Any]

    @property
    def db(self) -> Path:
        return self.worker.tmp / "alerts.db"

    def events(self) -> list[dict[str, Any]]:
        return cloudevents(self.records)


def orphan_finding() -> Finding:
    return Finding(
        category=Category.USURIOUS_RATE,
        severity=Severity.HIGH,
        score=0.7,
        feed=Feed.LOANS,
        entity_type=EntityType.LOAN,
        entity_id="LOAN-outbox-orphan",
        institution_id=LENDER,
        event_time=datetime.now(UTC),
        detector=DetectorRef(DetectorKind.RULE, "usurious_rate", "1"),
        evidence={"annual_rate": 0.3, "limit": 0.148},
        event_ids=("outbox-orphan",),
        institution_type="microcredit",
        region_code="350500",
    )


def commit_without_producing(db: Path) -> AlertChange:
    """Store a change with its topic_outbox row, as the worker's sink does, and stop there."""
    config = AlertsConfig(
        store=StoreConfig(url=f"sqlite:///{db.as_posix()}"),
        routing_file=REPO / "deploy" / "config" / "routing.yaml",
        topic_outbox=TopicOutboxConfig(grace=timedelta(seconds=1)),
    )
    pipeline = AlertPipeline.from_config(config, topic_outbox=True)
    try:
        [change] = pipeline.handle(orphan_finding())
    finally:
        pipeline.close()
    return change


def unpublished(db: Path) -> list[tuple[str, int]]:
    """Rows the worker has not marked published (read with the standard library)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        query = "SELECT alert_id, revision FROM topic_outbox WHERE published_at IS NULL"
        return list(conn.execute(query).fetchall())


def topic_size(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def run(kafka_broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutboxRun]:
    tmp = tmp_path_factory.mktemp("outbox")
    worker = Worker(
        kafka_broker,
        "-" + unique_name("outbox"),
        tmp,
        extra_env={"FENGHUO_ALERTS__TOPIC_OUTBOX__RELAY_INTERVAL": "PT1S"},
    )
    orphan = commit_without_producing(tmp / "alerts.db")
    assert unpublished(tmp / "alerts.db") == [(orphan.alert.alert_id, 1)]
    producer = KafkaProducer(bootstrap_servers=kafka_broker, acks="all")
    try:
        worker.start()
        # A live alert after the relay's: the sink's own produce, marked on the broker's ack.
        send(
            producer,
            worker,
            [
                ("institutions", LENDER, institution(LENDER, "microcredit")),
                ("loans", LENDER, loan("outbox-live", LENDER, annual_rate=0.3)),
            ],
        )
        alerts = worker.topic("alerts")

        def both(got: list[Any]) -> bool:
            seen = {orjson.loads(r.value)["data"]["alert_id"] for r in got}
            keys = {r.key.decode() for r in got}
            return orphan.alert.alert_id in seen and LIVE_KEY in keys

        read_topic(worker.bootstrap, alerts, both, ALERTS_SECONDS)
        wait_for(
            lambda: unpublished(worker.tmp / "alerts.db") == [],
            ALERTS_SECONDS,
            interval=0.2,
            message=f"rows still unpublished:\n{worker.tail()}",
        )
        # Everything the topic holds once every row is published: a second produce of the
        # orphan would have to come from a published row, which nothing produces again.
        size = topic_size(worker.bootstrap, alerts)
        records = read_topic(worker.bootstrap, alerts, lambda got: len(got) >= size, 30.0)
        yield OutboxRun(worker, orphan, records)
    finally:
        producer.close(timeout=10)
        worker.stop()
        delete_topics(kafka_broker, [t for t in list_topics(kafka_broker) if worker.suffix in t])


def test_a_change_committed_but_never_produced_reaches_the_topic_once(run: OutboxRun) -> None:
    ids = Counter(e["id"] for e in run.events())

    assert ids[f"{run.orphan.alert.alert_id}.1"] == 1


def test_the_relayed_record_is_the_committed_change_keyed_by_dedup_key(run: OutboxRun) -> None:
    record = TopicRecord.of(run.orphan)
    [relayed] = [r for r in run.records if orjson.loads(r.value)["id"] == record.cloudevent_id]

    assert relayed.key == run.orphan.dedup_key.encode()
    assert relayed.value == record.value.encode()


def test_the_relayed_cloudevent_is_contract_valid(run: OutboxRun) -> None:
    [relayed] = [e for e in run.events() if e["data"]["alert_id"] == run.orphan.alert.alert_id]

    assert relayed["type"] == "fenghuo.alert.opened"
    assert contract_errors("alert", relayed) == []


def test_a_live_alert_is_produced_once_and_marked_published(run: OutboxRun) -> None:
    live = [orjson.loads(r.value) for r in run.records if r.key == LIVE_KEY.encode()]

    assert [e["type"] for e in live] == ["fenghuo.alert.opened"]
    assert contract_errors("alert", live[0]) == []
    assert unpublished(run.db) == []


def test_no_cloudevent_id_repeats(run: OutboxRun) -> None:
    ids = Counter(e["id"] for e in run.events())

    assert [i for i, n in ids.items() if n > 1] == []
