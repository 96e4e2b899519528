"""``kill -9`` the worker mid-stream, three times: no alert lost, none duplicated, state kept.

A simulated history with injected rule scenarios is produced in five chunks. The first chunk
(with a lender's first big loan to one borrower) is processed completely; each of the next
three is killed as soon as the worker has committed some of it, and a new worker takes over;
the last chunk carries the loan that pushes the borrower over the concentration limit, which
only fires if the lender's book survived the kills (rebuilt from the changelog).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer

from models.history import Label
from stream.admin import delete_topics, list_topics
from tests.helpers import WaitTimeout, unique_name, wait_for
from tests.integration.test_pipeline_e2e import institution, loan
from tests.reliability._worker import (
    OPENED,
    RULE_SCENARIOS,
    StoredAlert,
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
CHUNKS = 5
KILLS = 3
#: How long the second half of a chunk is processed before the kill (under a commit interval).
MID_CHUNK_SECONDS = 0.5
PROGRESS_SECONDS = 60.0
ALERTS_SECONDS = 90.0
#: A microcredit lender with 236 m net assets: one borrower may owe it 23.6 m.
LENDER, BORROWER = "REL-MC-0001", "REL-BORROWER-1"
CONCENTRATION = f"borrower_concentration:{LENDER}:{BORROWER}"


@dataclass
class CrashRun:
    worker: Worker
    labels: list[Label] = field(default_factory=list)
    kills_mid_chunk: int = 0

    @property
    def db(self) -> Path:
        return self.worker.tmp / "alerts.db"


def first_loan() -> dict[str, Any]:
    return loan(
        "rel-conc-1",
        LENDER,
        event_time="2026-11-02T12:00:00+08:00",
        borrower_id=BORROWER,
        principal=15_000_000,
        outstanding=15_000_000,
    )


def tipping_loan() -> dict[str, Any]:
    """15 m + 10 m = 25 m > 23.6 m: a breach only if the first 15 m is still in the book."""
    return loan(
        "rel-conc-2",
        LENDER,
        event_time="2026-11-03T12:00:00+08:00",
        borrower_id=BORROWER,
        principal=10_000_000,
        outstanding=10_000_000,
    )


def crash_run(worker: Worker) -> CrashRun:
    records, labels = simulated(23, SIMULATED_EVENTS)
    size = -(-len(records) // CHUNKS)
    chunks = [records[i : i + size] for i in range(0, len(records), size)]
    run = CrashRun(worker, labels=labels)
    producer = KafkaProducer(bootstrap_servers=worker.bootstrap, acks="all")
    try:
        worker.start()
        loans = send(
            producer, worker, [("institutions", LENDER, institution(LENDER, "microcredit"))]
        )
        loans += send(producer, worker, [*chunks[0], ("loans", LENDER, first_loan())])
        wait_for(
            lambda: worker.committed("loans") >= loans,
            PROGRESS_SECONDS,
            interval=0.2,
            message="the first chunk was not committed",
        )
        for chunk in chunks[1 : 1 + KILLS]:
            before = worker.committed("loans")
            half = len(chunk) // 2
            loans += send(producer, worker, chunk[:half])
            wait_for(
                lambda b=before: worker.committed("loans") > b,
                PROGRESS_SECONDS,
                interval=0.05,
                message=f"no progress before kill {worker.starts}:\n{worker.tail()}",
            )
            # The rest arrives while the worker runs: it is read and scored, not yet committed
            # (a batching worker commits a whole small chunk at once, so waiting for progress
            # alone would kill it between chunks).
            loans += send(producer, worker, chunk[half:])
            time.sleep(MID_CHUNK_SECONDS)
            committed = worker.committed("loans")
            if committed < loans:
                run.kills_mid_chunk += 1
            log.info("kill -9 at %d of %d loans committed", committed, loans)
            worker.kill()
            worker.start()
        rest = [record for chunk in chunks[1 + KILLS :] for record in chunk]
        send(producer, worker, [*rest, ("loans", LENDER, tipping_loan())])
    finally:
        producer.close(timeout=10)
    return run


@pytest.fixture(scope="module")
def run(kafka_broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashRun]:
    worker = Worker(kafka_broker, "-" + unique_name("crash"), tmp_path_factory.mktemp("crash"))
    try:
        state = crash_run(worker)
        wanted = state.labels

        def complete() -> bool:
            alerts = stored_alerts(state.db)
            return not unmatched_in_store(wanted, alerts) and any(
                a.dedup_key == CONCENTRATION for a in alerts
            )

        try:
            wait_for(complete, ALERTS_SECONDS, interval=0.5)
        except WaitTimeout:
            missing = unmatched_in_store(wanted, stored_alerts(state.db))
            pytest.fail(f"alerts missing after the kills: {missing}\n{worker.tail()}")
        yield state
    finally:
        worker.stop()
        delete_topics(kafka_broker, [t for t in list_topics(kafka_broker) if worker.suffix in t])


def rule_alerts(run: CrashRun) -> list[StoredAlert]:
    alerts = stored_alerts(run.db)
    wanted = run.labels
    return [a for a in alerts if unmatched_in_store(wanted, [a]) != wanted]


def test_the_worker_was_killed_mid_chunk(run: CrashRun) -> None:
    assert run.worker.starts == KILLS + 1
    assert run.kills_mid_chunk >= 1


def test_every_injected_rule_scenario_is_in_the_store(run: CrashRun) -> None:
    wanted = run.labels
    assert len(wanted) >= sum(RULE_SCENARIOS.values())

    assert unmatched_in_store(wanted, stored_alerts(run.db)) == []


def test_no_dedup_key_has_two_alerts(run: CrashRun) -> None:
    per_key = Counter(a.dedup_key for a in stored_alerts(run.db))

    assert [key for key, count in per_key.items() if count > 1] == []


def test_occurrences_are_not_counted_twice_for_one_event(run: CrashRun) -> None:
    """A replayed finding names event ids already recorded: it adds no occurrence."""
    alerts = rule_alerts(run)
    assert alerts

    assert [
        (a.dedup_key, a.occurrences, a.events) for a in alerts if a.occurrences > a.events
    ] == []


def published_changes(db: Path) -> set[str]:
    """CloudEvent ids of every change committed to the store (its ``topic_outbox`` rows),
    once the worker has marked them all published."""

    def all_published() -> list[tuple[str, int, object]]:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            query = "SELECT alert_id, revision, published_at FROM topic_outbox"
            rows = list(conn.execute(query).fetchall())
        return rows if all(at is not None for _, _, at in rows) else []

    done = wait_for(
        all_published, ALERTS_SECONDS, interval=0.5, message="topic_outbox rows unpublished"
    )
    return {f"{alert_id}.{revision}" for alert_id, revision, _ in done}


def test_the_alerts_topic_holds_every_change_and_repeats_only_identical_ones(
    run: CrashRun,
) -> None:
    """Every committed change is on the topic; each alert is opened under one id; an id seen
    twice carries identical data.

    Since issue #9 the topic is fed at least once: a worker killed after the broker
    acknowledged a change and before the store marked it published has the relay produce
    it again after the restart. That is the same record (CloudEvent id and data), which
    consumers drop by ``id`` as the CloudEvents spec says; a second *opening* of an alert
    (another id) or an id with other data would still be a defect.
    """
    expected = published_changes(run.db)
    records = read_topic(
        run.worker.bootstrap,
        run.worker.topic("alerts"),
        lambda got: expected <= {orjson.loads(r.value)["id"] for r in got},
        ALERTS_SECONDS,
    )
    events = cloudevents(records)

    opened: dict[str, set[str]] = {}
    for e in events:
        if e["type"] == OPENED:
            opened.setdefault(e["data"]["alert_id"], set()).add(e["id"])
    assert [alert_id for alert_id, ids in opened.items() if len(ids) > 1] == []
    by_id: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_id.setdefault(e["id"], []).append(e)
    repeated = sum(1 for same in by_id.values() if len(same) > 1)
    log.info("alerts topic: %d CloudEvents, %d ids repeated", len(events), repeated)
    assert [i for i, same in by_id.items() if any(x != same[0] for x in same)] == []
    assert {a.alert_id for a in rule_alerts(run)} <= set(opened)


def test_state_from_before_the_kills_still_raises_the_concentration_alert(run: CrashRun) -> None:
    alerts = [a for a in stored_alerts(run.db) if a.dedup_key == CONCENTRATION]

    assert len(alerts) == 1
    assert alerts[0].scored.event_ids == {"rel-conc-2"}
