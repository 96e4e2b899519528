"""Kafka clients over the TLS broker's SSL and SASL_SSL listeners, and the ways they fail.

Each failure must be refused quickly (a short client timeout) with a message that says why and
never quotes a credential.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import orjson
import pytest
from kafka import KafkaConsumer

from stream.admin import BrokerUnavailable, TopicSpec, delete_topics, ensure_topics, list_topics
from stream.simulator.producer import FeedProducer
from tests.fixtures.kafka_tls import TlsBroker
from tests.helpers import consume, unique_name

pytestmark = pytest.mark.kafka

#: Long enough for a handshake on a busy machine, short enough for a refusal to be quick.
REFUSED_WITHIN = 4.0


@pytest.fixture
def topic(kafka_tls_broker: TlsBroker) -> Iterator[str]:
    """A fresh topic name; deleted (through the plaintext listener) after the test."""
    name = unique_name("tls")
    yield name
    delete_topics(kafka_tls_broker.plaintext, [name])


def test_admin_over_ssl_creates_a_topic(kafka_tls_broker: TlsBroker, topic: str) -> None:
    security = kafka_tls_broker.ssl_security()

    result = ensure_topics(security.bootstrap, [TopicSpec(topic, 2)], security=security)

    assert result.created == [topic]
    assert topic in list_topics(kafka_tls_broker.plaintext)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"])
def test_sasl_ssl_user_authenticates_with_each_mechanism(
    kafka_tls_broker: TlsBroker, topic: str, mechanism: str
) -> None:
    security = kafka_tls_broker.sasl_security(sasl_mechanism=mechanism)
    ensure_topics(kafka_tls_broker.plaintext, [TopicSpec(topic, 1)])

    assert topic in list_topics(security.bootstrap, security=security, timeout=10)


def test_feed_producer_over_sasl_ssl_delivers_records(
    kafka_tls_broker: TlsBroker, topic: str
) -> None:
    security = kafka_tls_broker.sasl_security()
    ensure_topics(kafka_tls_broker.plaintext, [TopicSpec(topic, 1)])

    with FeedProducer(security.bootstrap, {"loans": topic}, security=security) as producer:
        for number in range(3):
            producer.send("loans", f"FJ-MC-{number}", orjson.dumps({"n": number}))
    consumer = KafkaConsumer(
        topic, bootstrap_servers=kafka_tls_broker.plaintext, auto_offset_reset="earliest"
    )
    try:
        records = consume(consumer, 3)
    finally:
        consumer.close()

    assert producer.failed == 0
    assert [orjson.loads(r.value)["n"] for r in records] == [0, 1, 2]


def test_a_wrong_password_is_refused_without_quoting_it(
    kafka_tls_broker: TlsBroker, caplog: pytest.LogCaptureFixture
) -> None:
    security = kafka_tls_broker.sasl_security(sasl_password="not-the-Pa55word")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(BrokerUnavailable, match=r"Authentication failed.*invalid credentials") as e:
        list_topics(security.bootstrap, security=security, timeout=REFUSED_WITHIN)

    assert "not-the-Pa55word" not in str(e.value)
    assert "not-the-Pa55word" not in caplog.text


def test_a_plaintext_client_is_refused_by_the_tls_listener(kafka_tls_broker: TlsBroker) -> None:
    with pytest.raises(BrokerUnavailable, match=r"over PLAINTEXT.*closed the connection"):
        list_topics(kafka_tls_broker.ssl, timeout=REFUSED_WITHIN)


def test_a_client_that_does_not_trust_the_broker_ca_is_refused(
    kafka_tls_broker: TlsBroker,
) -> None:
    security = kafka_tls_broker.ssl_security(ssl_cafile=kafka_tls_broker.certs.other_cafile)

    with pytest.raises(BrokerUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        list_topics(security.bootstrap, security=security, timeout=REFUSED_WITHIN)
