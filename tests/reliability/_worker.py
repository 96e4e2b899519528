"""A ``fenghuo worker`` subprocess on uuid topics, and what the fault tests read back.

The worker runs exactly as in production (``python -m fenghuo worker``), configured by
environment. Faust's group timeouts are shortened (``BROKER_SESSION_TIMEOUT`` and friends, read
by Faust from the environment) so a restart after ``kill -9`` does not wait a minute for the
dead member's session to expire.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from alerts.evaluate import ScoredAlert, matches
from models.history import Label
from stream.simulator import Simulation, SimulatorConfig
from tests.helpers import wait_for

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
READY_SECONDS = 90.0
OPENED = "fenghuo.alert.opened"
#: Rule scenarios whose alert follows from one event: each injected one must be alerted.
RULE_SCENARIOS = {
    "usurious_rate": 2,
    "prohibited_trading_mode": 2,
    "unlicensed_activity": 2,
    "guarantee_leverage": 1,
}
Record = tuple[str, str, Any]


@dataclass
class Worker:
    """One worker configuration; ``start`` and ``kill`` may be called many times."""

    bootstrap: str
    suffix: str
    tmp: Path
    store_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    log: Path = Path()

    @property
    def app_id(self) -> str:
        return f"fenghuo-rel{self.suffix}"

    def topic(self, name: str) -> str:
        return name + self.suffix

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FENGHUO_")}
        env.update(
            {
                "FENGHUO_KAFKA__BOOTSTRAP": self.bootstrap,
                "FENGHUO_KAFKA__TOPIC_SUFFIX": self.suffix,
                "FENGHUO_KAFKA__APP_ID": self.app_id,
                "FENGHUO_METRICS__PORT": "0",
                "FENGHUO_VAR_DIR": str(self.tmp),
                "FENGHUO_ALERTS__STORE__URL": self.store_url
                or f"sqlite:///{self.tmp / 'alerts.db'}",
                "FENGHUO_INPUT__REGISTRY_WAIT_SECONDS": "2",
                "BROKER_SESSION_TIMEOUT": "6.0",
                "BROKER_HEARTBEAT_INTERVAL": "1.0",
                "BROKER_REBALANCE_TIMEOUT": "10.0",
                "BROKER_COMMIT_INTERVAL": "1.0",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        """Start a worker process and wait until its partitions are assigned."""
        self.starts += 1
        began = time.monotonic()
        self.log = self.tmp / f"worker-{self.starts}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "fenghuo", "worker"],
                cwd=REPO,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process, out_log = self.process, self.log
        wait_for(
            lambda: (
                "worker ready" in out_log.read_text(errors="replace") or process.poll() is not None
            ),
            READY_SECONDS,
            interval=0.2,
            message=f"worker {self.starts} not ready in {READY_SECONDS} s",
        )
        assert process.poll() is None, f"worker exited early:\n{self.tail()}"
        log.info("worker %d ready in %.1f s", self.starts, time.monotonic() - began)

    def kill(self) -> None:
        """``kill -9``: no shutdown, no final commit, no producer flush."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def committed(self, topic: str) -> int:
        """The group's committed offsets on ``topic``, summed over partitions."""
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            offsets = admin.list_group_offsets({self.app_id: None}).get(self.app_id, {})
        finally:
            admin.close()
        return sum(
            meta.offset
            for tp, meta in offsets.items()
            if tp.topic == self.topic(topic) and meta.offset > 0
        )


def read_topic(bootstrap: str, topic: str, done: Any, timeout: float) -> list[Any]:
    """Records of ``topic`` from the start until ``done(records)`` holds (or the deadline)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    records: list[Any] = []
    try:
        partitions = [
            TopicPartition(topic, p) for p in wait_for(lambda: consumer.partitions_for_topic(topic))
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)

        def poll() -> bool:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            return bool(done(records))

        wait_for(poll, timeout, interval=0.01)
    finally:
        consumer.close()
    return records


def cloudevents(records: list[Any]) -> list[dict[str, Any]]:
    return [orjson.loads(r.value) for r in records]


def unmatched(labels: list[Label], events: list[dict[str, Any]]) -> list[Label]:
    """The labels no alert among ``events`` matches."""
    scored = [ScoredAlert.from_data(e["data"]) for e in events]
    return [label for label in labels if not any(matches(s, label) for s in scored)]


@dataclass(frozen=True)
class StoredAlert:
    """One row of the alert store, with the number of event ids recorded for it."""

    scored: ScoredAlert
    dedup_key: str
    occurrences: int
    events: int

    @property
    def alert_id(self) -> str:
        return self.scored.alert_id


def stored_alerts(db: Path) -> list[StoredAlert]:
    """Every alert of the SQLite store (read with the standard library: no product code).

    None before the worker has created and migrated the store.
    """
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        try:
            rows = conn.execute(
                "SELECT a.alert_id, a.category, a.entity_id, a.institution_id, a.event_ids,"
                " a.first_seen, a.dedup_key, a.occurrences,"
                " (SELECT count(*) FROM alert_events e WHERE e.alert_id = a.alert_id)"
                " FROM alerts a"
            ).fetchall()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return []
            raise
    return [
        StoredAlert(
            ScoredAlert(
                alert_id=alert_id,
                category=category,
                entity_id=entity_id or "",
                institution_id=institution_id or "",
                event_ids=frozenset(orjson.loads(event_ids)),
                first_seen=datetime.fromisoformat(first_seen).replace(tzinfo=UTC),
            ),
            dedup_key,
            occurrences,
            events,
        )
        for (
            alert_id,
            category,
            entity_id,
            institution_id,
            event_ids,
            first_seen,
            dedup_key,
            occurrences,
            events,
        ) in rows
    ]


def unmatched_in_store(labels: list[Label], alerts: list[StoredAlert]) -> list[Label]:
    """The labels no stored alert matches."""
    return [label for label in labels if not any(matches(a.scored, label) for a in alerts)]


def simulated(seed: int, events: int) -> tuple[list[Record], list[Label]]:
    """A simulated history (``(topic, key, doc)`` records) and its rule scenarios' labels."""
    sim = Simulation(
        SimulatorConfig(
            seed=seed, events=events, institutions=60, warmup_days=0.5, scenarios=RULE_SCENARIOS
        )
    )
    records = [(r.topic, r.key, r.value) for r in sim.records()]
    return records, [label for label in sim.labels if str(label.category) in RULE_SCENARIOS]


def send(producer: KafkaProducer, worker: Worker, records: list[Record]) -> int:
    """Produce ``(topic, key, doc)`` records; the number that went to ``loans``."""
    for topic, key, doc in records:
        producer.send(worker.topic(topic), key=key.encode(), value=orjson.dumps(doc))
    producer.flush()
    return sum(1 for topic, _, _ in records if topic == "loans")
