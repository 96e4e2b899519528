"""A worker whose every Kafka connection is SASL_SSL (SCRAM-SHA-512, the test CA) does its job.

The worker runs as in production (``fenghuo worker``) with only the ``[kafka]`` security
settings changed: it creates its topics through the admin client, consumes a small simulated
feed produced by the simulator's producer over SASL_SSL (plus one usurious loan, whose alert
follows from that one event), and writes alerts. The test reads the alerts and the group's
committed offsets back through the broker's plaintext listener, so a worker that silently fell
back to plaintext, or did nothing, cannot pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaAdminClient

from stream.admin import delete_topics, list_topics
from stream.settings import WorkerSettings
from stream.simulator.producer import FeedProducer, feed_topics, prepare_topics
from tests.fixtures.kafka_tls import TlsBroker
from tests.helpers import WaitTimeout, unique_name, wait_for
from tests.integration.test_pipeline_e2e import institution, loan
from tests.reliability._worker import Worker, read_topic, simulated

pytestmark = pytest.mark.kafka

SIMULATED_EVENTS = 400
SECONDS = 45.0
LENDER = "SASL-MC-0001"
USURY = f"usurious_rate:{LENDER}:LOAN-sasl-usury"


@pytest.fixture
def worker(kafka_tls_broker: TlsBroker, tmp_path: Path) -> Iterator[Worker]:
    broker = kafka_tls_broker
    suffix = "-" + unique_name("sasl")
    env = {
        "FENGHUO_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "FENGHUO_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
        "FENGHUO_KAFKA__SASL_USERNAME": broker.user,
        "FENGHUO_KAFKA__SASL_PASSWORD": broker.password,
        "FENGHUO_KAFKA__SSL_CAFILE": str(broker.certs.cafile),
    }
    run = Worker(broker.sasl_ssl, suffix, tmp_path, extra_env=env)
    yield run
    run.stop()
    delete_topics(broker.plaintext, [t for t in list_topics(broker.plaintext) if suffix in t])


def committed_loans(bootstrap: str, worker: Worker) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets({worker.app_id: None}).get(worker.app_id, {})
    finally:
        admin.close()
    return sum(m.offset for tp, m in offsets.items() if tp.topic == worker.topic("loans"))


def test_worker_over_sasl_ssl_consumes_simulated_feeds_and_raises_alerts(
    kafka_tls_broker: TlsBroker, worker: Worker
) -> None:
    security = kafka_tls_broker.sasl_security()
    settings = WorkerSettings(kafka=security)
    records, _ = simulated(seed=11, events=SIMULATED_EVENTS)
    records += [
        ("institutions", LENDER, institution(LENDER, "microcredit")),
        ("loans", LENDER, loan("sasl-usury", LENDER, annual_rate=0.3)),
    ]
    loans = sum(1 for topic, _, _ in records if topic == "loans")
    prepare_topics(settings, security.bootstrap, worker.suffix)
    worker.start()
    topics = feed_topics(settings, worker.suffix)
    with FeedProducer(security.bootstrap, topics, security=security) as producer:
        for topic, key, doc in records:
            producer.send(topic, key, orjson.dumps(doc))

    def alerted(got: list[Any]) -> bool:  # the alerts topic is keyed by dedup key
        return any(record.key == USURY.encode() for record in got)

    try:
        read_topic(kafka_tls_broker.plaintext, worker.topic("alerts"), alerted, SECONDS)
        wait_for(lambda: committed_loans(kafka_tls_broker.plaintext, worker) >= loans, SECONDS)
    except WaitTimeout as error:
        pytest.fail(f"{error}; worker log tail:\n{worker.tail()}")

    assert producer.failed == 0
    assert worker.alive(), worker.tail()
    assert kafka_tls_broker.password not in worker.log.read_text(errors="replace")
