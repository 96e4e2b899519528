"""Stop and restart the broker under a running worker: the pipeline resumes, alerts arrive once.

The session broker is shared by every Kafka test, so this test starts its own isolated broker
(free ports, temporary data directory) and restarts that one. The worker is never restarted:
it must ride out the outage on its own (clients reconnect; uncommitted work is redone).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer

from models.history import Label
from stream.broker import KafkaBroker
from tests.helpers import WaitTimeout, unique_name, wait_for
from tests.reliability._worker import (
    OPENED,
    RULE_SCENARIOS,
    Worker,
    cloudevents,
    read_topic,
    send,
    simulated,
    stored_alerts,
    unmatched_in_store,
)

pytestmark = pytest.mark.kafka
log = logging.getLogger(__name__)

SIMULATED_EVENTS = 4000
BROKER_SECONDS = 180.0
PROGRESS_SECONDS = 60.0
ALERTS_SECONDS = 120.0


@dataclass
class OutageRun:
    worker: Worker
    labels: list[Label]
    outage_seconds: float

    @property
    def db(self) -> Path:
        return self.worker.tmp / "alerts.db"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """A broker of this module's own, so stopping it disturbs no other test."""
    broker = KafkaBroker.start_isolated(tmp_path_factory.mktemp("kafka-own"), wait=BROKER_SECONDS)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def run(broker: KafkaBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutageRun]:
    bootstrap = broker.settings.bootstrap
    worker = Worker(bootstrap, "-" + unique_name("outage"), tmp_path_factory.mktemp("outage"))
    records, labels = simulated(37, SIMULATED_EVENTS)
    half = len(records) // 2
    try:
        worker.start()
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        try:
            loans = send(producer, worker, records[:half])
        finally:
            producer.close(timeout=10)
        wait_for(
            lambda: worker.committed("loans") > 0,
            PROGRESS_SECONDS,
            interval=0.05,
            message=f"no progress before the outage:\n{worker.tail()}",
        )
        log.info(
            "stopping the broker at %d of %d loans committed", worker.committed("loans"), loans
        )
        began = time.monotonic()
        broker.stop()
        broker.start(wait=BROKER_SECONDS)
        outage = time.monotonic() - began
        log.info("broker back after %.1f s", outage)
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        try:
            send(producer, worker, records[half:])
        finally:
            producer.close(timeout=10)
        state = OutageRun(worker, labels, outage)
        try:
            wait_for(
                lambda: not unmatched_in_store(labels, stored_alerts(state.db)),
                ALERTS_SECONDS,
                interval=0.5,
            )
        except WaitTimeout:
            missing = unmatched_in_store(labels, stored_alerts(state.db))
            pytest.fail(f"alerts missing after the outage: {missing}\n{worker.tail()}")
        yield state
    finally:
        worker.stop()


def test_the_worker_rides_out_the_broker_restart(run: OutageRun) -> None:
    assert run.worker.starts == 1
    assert run.worker.alive(), run.worker.tail()


def test_every_injected_rule_scenario_is_in_the_store(run: OutageRun) -> None:
    assert len(run.labels) >= sum(RULE_SCENARIOS.values())
    assert unmatched_in_store(run.labels, stored_alerts(run.db)) == []


def test_no_dedup_key_has_two_alerts(run: OutageRun) -> None:
    per_key = Counter(a.dedup_key for a in stored_alerts(run.db))

    assert [key for key, count in per_key.items() if count > 1] == []


def test_the_alerts_topic_has_each_alert_opened_exactly_once(run: OutageRun) -> None:
    alerts = stored_alerts(run.db)
    matched = {a.alert_id for a in alerts if unmatched_in_store(run.labels, [a]) != run.labels}
    records = read_topic(
        run.worker.bootstrap,
        run.worker.topic("alerts"),
        lambda got: matched <= {orjson.loads(r.value)["data"]["alert_id"] for r in got},
        ALERTS_SECONDS,
    )
    events = cloudevents(records)

    opened = Counter(e["data"]["alert_id"] for e in events if e["type"] == OPENED)
    assert {alert_id for alert_id in matched if opened[alert_id] != 1} == set()
    assert [alert_id for alert_id, n in opened.items() if n > 1] == []
