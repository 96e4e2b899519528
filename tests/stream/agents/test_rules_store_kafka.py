"""A real worker on the test broker runs the rule set stored through the API, and picks up a
newly activated one without a restart (findings and alerts carry the stored version)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer
from sqlalchemy.orm import Session

from alerts import StoreConfig, make_engine, migrate, writer
from alerts.store import RuleSets
from stream.admin import delete_topics, list_topics
from tests.helpers import unique_name, wait_for
from tests.reliability._worker import Worker

pytestmark = pytest.mark.kafka

LENDER = "FJ-MC-RULES"
#: Cap = 4 × LPR: 0.08 under the first stored set, 0.06 under the second (0.12 by default).
FIRST = "version: 'kafka-1'\nrate_cap:\n  lpr: 0.020\n"
SECOND = "version: 'kafka-2'\nrate_cap:\n  lpr: 0.015\n"
ALERT_SECONDS = 60.0


def loan(n: int, rate: float) -> dict[str, Any]:
    return {
        "event_id": f"rules-store-{n}",
        "event_type": "originated",
        "event_time": f"2026-11-27T09:{n:02d}:00+08:00",
        "institution_id": LENDER,
        "loan_id": f"LOAN-rules-{n}",
        "borrower_id": f"B-rules-{n}",
        "borrower_type": "individual",
        "principal": 100_000,
        "outstanding": 100_000,
        "annual_rate": rate,
        "term_days": 180,
        "days_past_due": 0,
    }


def activate(db: Path, text: str) -> None:
    engine = make_engine(StoreConfig(url=f"sqlite:///{db.as_posix()}"))
    try:
        migrate(engine)
        with Session(writer(engine)) as session, session.begin():
            RuleSets(session).save(text, actor="admin@*", comment="test", now=datetime.now(UTC))
    finally:
        engine.dispose()


def usury_versions(db: Path) -> dict[str, str]:
    """loan id -> detector version of its usurious_rate alert (standard library read)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT entity_id, detector_version FROM alerts WHERE category = 'usurious_rate'"
        ).fetchall()
    return dict(rows)


@pytest.fixture
def worker(kafka_broker: str, tmp_path: Path) -> Iterator[Worker]:
    suffix = "-" + unique_name("rules")
    running = Worker(
        kafka_broker,
        suffix,
        tmp_path,
        extra_env={"FENGHUO_RULES__RELOAD_SECONDS": "0.5", "FENGHUO_ML__ENABLED": "false"},
    )
    activate(tmp_path / "alerts.db", FIRST)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        delete_topics(kafka_broker, [t for t in list_topics(kafka_broker) if suffix in t])


def test_worker_runs_the_stored_rule_set_and_picks_up_a_new_one(
    kafka_broker: str, worker: Worker
) -> None:
    db = worker.tmp / "alerts.db"
    producer = KafkaProducer(bootstrap_servers=kafka_broker, acks="all")

    def send(n: int, rate: float) -> None:
        producer.send(worker.topic("loans"), key=LENDER.encode(), value=orjson.dumps(loan(n, rate)))
        producer.flush()

    try:
        send(1, 0.10)  # above 0.08 (stored set 1), below the file's 0.12
        wait_for(lambda: "LOAN-rules-1" in usury_versions(db), ALERT_SECONDS)
        activate(db, SECOND)
        wait_for(lambda: "detectors now run rules version kafka-2+store.2" in worker_log(worker))
        send(2, 0.07)  # above 0.06 (stored set 2) only
        wait_for(lambda: "LOAN-rules-2" in usury_versions(db), ALERT_SECONDS)
    finally:
        producer.close(timeout=10)

    assert usury_versions(db) == {
        "LOAN-rules-1": "kafka-1+store.1",
        "LOAN-rules-2": "kafka-2+store.2",
    }


def worker_log(worker: Worker) -> str:
    return worker.log.read_text(errors="replace")
