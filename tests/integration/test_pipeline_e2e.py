"""End to end on the real broker: simulated feeds and bad input in, alerts and dead letters out.

One worker (``fenghuo worker`` in a subprocess, configured by environment) runs for the whole
module on uuid-suffixed topics and its own alert store; the tests read what it produced.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from alerts.evaluate import ScoredAlert, matches
from models.contract import contract_errors
from models.history import Label
from stream.admin import delete_topics, list_topics
from stream.simulator import Simulation, SimulatorConfig
from tests.helpers import WaitTimeout, unique_name, wait_for

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
WORKER_READY_SECONDS = 90.0
ALERTS_SECONDS = 90.0
SIMULATED_EVENTS = 4000
#: Rule scenarios whose alert follows from one event: each injected one must be alerted.
RULE_SCENARIOS = {
    "usurious_rate": 2,
    "prohibited_trading_mode": 2,
    "unlicensed_activity": 2,
    "guarantee_leverage": 1,
}
LENDER, VENUE, GHOST = "E2E-MC-0001", "E2E-TV-0001", "E2E-MC-GHOST"
WHEN = "2026-11-26T10:15:00+08:00"


def institution(institution_id: str, institution_type: str) -> dict[str, Any]:
    return {
        "event_id": f"inst-{institution_id}-v1",
        "event_time": "2026-11-02T08:00:00+08:00",
        "institution_id": institution_id,
        "name": f"{institution_id} test institution",
        "institution_type": institution_type,
        "region_code": "350500",
        "registered_capital": 200_000_000,
        "net_assets": 236_000_000,
        "license_status": "active",
    }


def loan(event_id: str, lender: str, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "event_id": event_id,
        "event_type": "originated",
        "event_time": WHEN,
        "institution_id": lender,
        "loan_id": f"LOAN-{event_id}",
        "borrower_id": f"B-{event_id}",
        "borrower_type": "enterprise",
        "principal": 1_000_000,
        "outstanding": 1_000_000,
        "annual_rate": 0.08,
        "term_days": 180,
        "days_past_due": 0,
    }
    doc.update(changes)
    return doc


def trade(event_id: str, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "event_id": event_id,
        "event_time": WHEN,
        "venue_id": VENUE,
        "product_id": "E2E-PRODUCT-1",
        "product_type": "equity",
        "trade_id": f"T-{event_id}",
        "buyer_account": "ACC-1",
        "seller_account": "ACC-2",
        "buyer_owner_id": "OWN-1",
        "seller_owner_id": "OWN-2",
        "price": 3.42,
        "quantity": 20_000,
        "trading_mode": "negotiated",
    }
    doc.update(changes)
    return doc


#: name -> (feed, key, raw bytes, a fragment the dead letter's reason must contain)
MALFORMED: dict[str, tuple[str, bytes, bytes, str]] = {
    "not_json": ("loans", LENDER.encode(), b"this is not json", "not JSON"),
    "nan": ("loans", LENDER.encode(), b'{"event_id": "x", "principal": NaN}', "not JSON"),
    "contract": (
        "loans",
        LENDER.encode(),
        orjson.dumps({k: v for k, v in loan("bad-contract", LENDER).items() if k != "loan_id"}),
        "breaks the loans contract",
    ),
    "impossible": (
        "loans",
        LENDER.encode(),
        orjson.dumps(loan("bad-impossible", LENDER, days_past_due=30)),
        "impossible values",
    ),
    "oversized": (
        "loans",
        LENDER.encode(),
        orjson.dumps(loan("bad-oversized", LENDER, industry_code="C" * 70_000)),
        "exceeds",
    ),
    "wrong_key": (
        "loans",
        b"SOMEONE-ELSE",
        orjson.dumps(loan("bad-key", LENDER)),
        "is not the loans key",
    ),
    "trade_not_json": ("trades", b"E2E-PRODUCT-1", b"{", "not JSON"),
}

#: Dedup keys of the alerts the hand-made violations must raise.
EXPECTED = {
    f"usurious_rate:{LENDER}:LOAN-e2e-usury",
    f"prohibited_trading_mode:{VENUE}:E2E-PRODUCT-1",
    f"unlicensed_activity:{GHOST}:{GHOST}",
}


@dataclass
class Run:
    bootstrap: str
    suffix: str
    tmp: Path
    labels: list[Label] = field(default_factory=list)
    worker: subprocess.Popen[bytes] | None = None
    log: Path = Path()

    def topic(self, name: str) -> str:
        return name + self.suffix

    def start_worker(self, name: str) -> None:
        """Start ``fenghuo worker`` (log ``<name>.log``) and wait until it is ready."""
        self.log = self.tmp / f"{name}.log"
        with self.log.open("wb") as out:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "fenghuo", "worker"],
                cwd=REPO,
                env=worker_env(self.bootstrap, self.suffix, self.tmp),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker, log = self.worker, self.log
        wait_for(
            lambda: "worker ready" in log.read_text(errors="replace") or worker.poll() is not None,
            WORKER_READY_SECONDS,
            interval=0.2,
        )
        assert worker.poll() is None, f"worker exited early:\n{log.read_text()[-3000:]}"

    def stop_worker(self) -> int:
        assert self.worker is not None
        if self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                return self.worker.wait(30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
        return self.worker.wait(10)


def worker_env(bootstrap: str, suffix: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGHUO_")}
    env.update(
        {
            "FENGHUO_KAFKA__BOOTSTRAP": bootstrap,
            "FENGHUO_KAFKA__TOPIC_SUFFIX": suffix,
            "FENGHUO_KAFKA__APP_ID": f"fenghuo-e2e{suffix}",
            "FENGHUO_METRICS__PORT": "0",
            "FENGHUO_VAR_DIR": str(tmp),
            "FENGHUO_ALERTS__STORE__URL": f"sqlite:///{tmp / 'alerts.db'}",
            "FENGHUO_INPUT__REGISTRY_WAIT_SECONDS": "2",
        }
    )
    return env


def produce(run: Run, producer: KafkaProducer) -> None:
    """Our institutions, the bad input, then the violations, then a simulated sector."""
    producer.send(
        run.topic("institutions"),
        key=LENDER.encode(),
        value=orjson.dumps(institution(LENDER, "microcredit")),
    )
    producer.send(
        run.topic("institutions"),
        key=VENUE.encode(),
        value=orjson.dumps(institution(VENUE, "trading_venue")),
    )
    producer.flush()
    for feed, key, raw, _ in MALFORMED.values():
        producer.send(run.topic(feed), key=key, value=raw)
    usury = orjson.dumps(loan("e2e-usury", LENDER, annual_rate=0.24))
    producer.send(run.topic("loans"), key=LENDER.encode(), value=usury)
    producer.send(run.topic("loans"), key=LENDER.encode(), value=usury)  # a resend
    producer.send(
        run.topic("loans"), key=GHOST.encode(), value=orjson.dumps(loan("e2e-ghost", GHOST))
    )
    producer.send(
        run.topic("trades"),
        key=b"E2E-PRODUCT-1",
        value=orjson.dumps(trade("e2e-continuous", trading_mode="continuous")),
    )
    config = SimulatorConfig(
        seed=11,
        events=SIMULATED_EVENTS,
        institutions=60,
        warmup_days=1.0,
        scenarios=RULE_SCENARIOS,
    )
    sim = Simulation(config)
    for record in sim.records():
        producer.send(
            run.topic(record.topic), key=record.key.encode(), value=orjson.dumps(record.value)
        )
    producer.flush()
    run.labels = sim.labels


@pytest.fixture(scope="module")
def run(kafka_broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("e2e")
    state = Run(kafka_broker, "-" + unique_name("e2e"), tmp)
    try:
        state.start_worker("worker")
        producer = KafkaProducer(bootstrap_servers=kafka_broker, acks="all", max_request_size=2**21)
        try:
            produce(state, producer)
        finally:
            producer.close(timeout=10)
        yield state
    finally:
        if state.worker is not None:
            state.stop_worker()
        names = [t for t in list_topics(kafka_broker) if state.suffix in t]
        delete_topics(kafka_broker, names)


def read_until(consumer: KafkaConsumer, into: list[Any], done: Any, timeout: float) -> None:
    def poll() -> bool:
        for batch in consumer.poll(timeout_ms=200).values():
            into.extend(batch)
        return bool(done())

    wait_for(poll, timeout, interval=0.01)


def reader(run: Run, *topics: str) -> KafkaConsumer:
    """A consumer assigned every partition of ``topics`` from the start (no group rebalance)."""
    consumer = KafkaConsumer(bootstrap_servers=run.bootstrap, enable_auto_commit=False)
    partitions = [
        TopicPartition(topic, p)
        for topic in topics
        for p in wait_for(lambda t=topic: consumer.partitions_for_topic(t), 30.0)
    ]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    return consumer


def alerts_consumer(run: Run) -> KafkaConsumer:
    return reader(run, run.topic("alerts"))


def collect_alerts(run: Run, done: Any) -> list[dict[str, Any]]:
    records: list[Any] = []
    consumer = alerts_consumer(run)
    try:
        read_until(
            consumer,
            records,
            lambda: done([orjson.loads(r.value) for r in records]),
            ALERTS_SECONDS,
        )
    except WaitTimeout:
        seen = sorted({orjson.loads(r.value)["data"]["dedup_key"] for r in records})
        pytest.fail(
            f"alerts did not arrive in {ALERTS_SECONDS} s; saw {seen[:30]}\n"
            f"worker log tail:\n{run.log.read_text(errors='replace')[-3000:]}"
        )
    finally:
        consumer.close()
    return [orjson.loads(r.value) for r in records]


def keys(alerts: list[dict[str, Any]]) -> set[str]:
    return {a["data"]["dedup_key"] for a in alerts}


def test_violations_among_simulated_feeds_raise_their_alerts(run: Run) -> None:
    alerts = collect_alerts(run, lambda got: keys(got) >= EXPECTED)

    assert keys(alerts) >= EXPECTED


def test_every_alert_is_valid_against_the_contract_and_keyed_by_dedup_key(run: Run) -> None:
    consumer = alerts_consumer(run)
    records: list[Any] = []
    try:
        read_until(
            consumer, records, lambda: {r.key.decode() for r in records} >= EXPECTED, ALERTS_SECONDS
        )
    finally:
        consumer.close()

    for record in records:
        doc = orjson.loads(record.value)
        assert contract_errors("alert", doc) == [], doc
        assert record.key.decode() == doc["data"]["dedup_key"]


def test_injected_rule_scenarios_are_each_alerted(run: Run) -> None:
    wanted = [label for label in run.labels if str(label.category) in RULE_SCENARIOS]
    assert wanted, "the simulation injected no rule scenario"

    def all_matched(got: list[dict[str, Any]]) -> bool:
        scored = [_scored(a) for a in got]
        return all(any(matches(s, label) for s in scored) for label in wanted)

    alerts = collect_alerts(run, lambda got: keys(got) >= EXPECTED and all_matched(got))

    assert all_matched(alerts)


def _scored(alert: dict[str, Any]) -> ScoredAlert:
    return ScoredAlert.from_data(alert["data"])


def test_a_resent_event_opens_one_alert_once(run: Run) -> None:
    key = f"usurious_rate:{LENDER}:LOAN-e2e-usury"
    alerts = collect_alerts(run, lambda got: key in keys(got))

    changes = [a["type"] for a in alerts if a["data"]["dedup_key"] == key]
    assert changes == ["fenghuo.alert.opened"]


def test_malformed_events_land_on_the_dead_letter_topics_with_reasons(run: Run) -> None:
    consumer = reader(run, run.topic("loans") + ".dlq", run.topic("trades") + ".dlq")
    records: list[Any] = []
    raws = {raw for _, _, raw, _ in MALFORMED.values()}
    try:
        read_until(consumer, records, lambda: raws <= {r.value for r in records}, ALERTS_SECONDS)
    finally:
        consumer.close()

    by_value = {r.value: r for r in records}
    for name, (feed, key, raw, reason) in MALFORMED.items():
        record = by_value[raw]
        headers = {k: v.decode() for k, v in record.headers}
        assert record.topic == run.topic(feed) + ".dlq", name
        assert record.key == key, name
        assert reason in headers["fenghuo-reason"], (name, headers["fenghuo-reason"])
        assert headers["fenghuo-topic"] == run.topic(feed), name
        assert int(headers["fenghuo-offset"]) >= 0, name


def test_worker_stops_cleanly_on_sigterm(run: Run) -> None:
    collect_alerts(run, lambda got: keys(got) >= EXPECTED)
    assert run.worker is not None
    started = time.monotonic()

    run.worker.send_signal(signal.SIGTERM)
    code = run.worker.wait(30)

    assert code == 0, run.log.read_text(errors="replace")[-3000:]
    assert time.monotonic() - started < 30


def test_a_restarted_worker_recovers_its_state_from_the_changelogs(run: Run) -> None:
    if run.worker is not None and run.worker.poll() is None:
        run.stop_worker()
    run.start_worker("worker-restarted")
    producer = KafkaProducer(bootstrap_servers=run.bootstrap, acks="all")
    try:
        later = loan("e2e-after-restart", LENDER, annual_rate=0.3)
        producer.send(run.topic("loans"), key=LENDER.encode(), value=orjson.dumps(later))
        producer.flush()
    finally:
        producer.close(timeout=10)
    wanted = f"usurious_rate:{LENDER}:LOAN-e2e-after-restart"

    alerts = collect_alerts(run, lambda got: wanted in keys(got))

    # The lender's record was read before the restart: had the registry been lost, its new
    # loan would also be unlicensed business.
    assert f"unlicensed_activity:{LENDER}:{LENDER}" not in keys(alerts)
