"""A crash cut a state flush short: the recovered book is repaired before its event is replayed.

The worker logs a book's keys one record each. Here the crash is staged exactly: a guarantor's
book holds two guarantees (within its limit), then the third guarantee's position record
reaches the changelog but the summary record it moved does not, and the event itself was never
committed. The restarted worker recovers the book, replays the event, and must see the true
total (over the limit) rather than the stale summary: the ``guarantee_leverage`` alert is raised.
Without the repair the replay finds its position already in place, moves no sum, and stays
silent (what the crash test saw).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer

from stream.admin import delete_topics, list_topics
from tests.helpers import unique_name, wait_for
from tests.integration.test_pipeline_e2e import institution
from tests.reliability._worker import StoredAlert, Worker, send, stored_alerts

pytestmark = pytest.mark.kafka

#: Net assets 236 m: guarantees outstanding may reach 2,360 m.
GUARANTOR = "REP-GT-0001"
SECONDS = 90.0


def guarantee(n: int, outstanding: float) -> dict[str, Any]:
    return {
        "event_id": f"rep-gt-{n}",
        "event_type": "issued",
        "event_time": f"2026-11-02T1{n}:00:00+08:00",
        "institution_id": GUARANTOR,
        "guarantee_id": f"REP-G-{n}",
        "guarantor_id": GUARANTOR,
        "guarantor_type": "guarantee_company",
        "debtor_id": f"REP-DEBTOR-{n}",
        "creditor_id": "FJ-MC-0007",
        "amount": outstanding,
        "outstanding": outstanding,
    }


def leverage_alerts(worker: Worker) -> list[StoredAlert]:
    return [
        a
        for a in stored_alerts(worker.tmp / "alerts.db")
        if a.scored.category == "guarantee_leverage" and a.scored.entity_id == GUARANTOR
    ]


def stage_cut_short_flush(producer: KafkaProducer, worker: Worker, partition: int) -> None:
    """The third guarantee's position as its flush logged it; its summary record is lost."""
    third = guarantee(3, 100_000_000)
    at = datetime.fromisoformat(third["event_time"]).timestamp()
    producer.send(
        f"{worker.app_id}-state-guarantee_leverage-changelog",
        key=orjson.dumps(f"{GUARANTOR}|p|{third['guarantee_id']}"),
        value=orjson.dumps([100_000_000.0, third["debtor_id"], 0, at]),
        partition=partition,
    )
    producer.flush()


@pytest.fixture(scope="module")
def worker(kafka_broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    worker = Worker(kafka_broker, "-" + unique_name("repair"), tmp_path_factory.mktemp("repair"))
    producer = KafkaProducer(bootstrap_servers=kafka_broker, acks="all")
    try:
        worker.start()
        topic = worker.topic("guarantees")
        send(producer, worker, [("institutions", GUARANTOR, institution(GUARANTOR, "guarantee"))])
        sent = producer.send(topic, key=GUARANTOR.encode(), value=orjson.dumps(guarantee(1, 1.5e9)))
        partition = sent.get(timeout=30).partition
        send(producer, worker, [("guarantees", GUARANTOR, guarantee(2, 800_000_000))])
        wait_for(lambda: worker.committed("guarantees") >= 2, SECONDS, interval=0.2)
        worker.stop()  # a clean stop: the book of 2,300 m is fully logged

        stage_cut_short_flush(producer, worker, partition)
        send(producer, worker, [("guarantees", GUARANTOR, guarantee(3, 100_000_000))])
        worker.start()
        wait_for(lambda: leverage_alerts(worker), SECONDS, interval=0.5, message=worker.tail())
        yield worker
    finally:
        producer.close(timeout=10)
        worker.stop()
        delete_topics(kafka_broker, [t for t in list_topics(kafka_broker) if worker.suffix in t])


def test_the_replayed_guarantee_raises_the_leverage_alert_on_the_true_total(
    worker: Worker,
) -> None:
    [alert] = leverage_alerts(worker)

    assert alert.scored.event_ids == {"rep-gt-3"}


def test_the_repair_is_logged_with_the_owner(worker: Worker) -> None:
    log = worker.log.read_text(errors="replace")

    assert f"guarantee_leverage state of {GUARANTOR} disagreed with its facts" in log
