"""Topic administration against the real session broker, checked with a plain admin client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from stream.admin import (
    TopicError,
    TopicSpec,
    broker_answers,
    delete_topics,
    ensure_topics,
    list_topics,
    topic_partitions,
)
from tests.fixtures.kafka import ConsumerFactory, TopicFactory
from tests.helpers import unique_name, wait_for


@pytest.fixture
def admin(kafka_broker: str) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=kafka_broker)
    yield client
    client.close()


@pytest.fixture
def names(kafka_broker: str) -> Iterator[list[str]]:
    """Fresh topic names for ``ensure_topics`` to create; deleted after the test."""
    made: list[str] = []
    yield made
    delete_topics(kafka_broker, made)


def _new(names: list[str], prefix: str) -> str:
    names.append(unique_name(prefix))
    return names[-1]


def _partitions(admin: KafkaAdminClient, name: str) -> int:
    (topic,) = admin.describe_topics([name])
    return len(topic["partitions"])


def _config(admin: KafkaAdminClient, name: str, key: str) -> str:
    resource = ConfigResource(ConfigResourceType.TOPIC, name, configs={key: None})
    value: str = admin.describe_configs([resource], config_filter="all")["topic"][name][key][
        "value"
    ]
    return value


# --- specs ---


@pytest.mark.parametrize(
    ("name", "partitions", "match"),
    [
        ("", 1, "topic name must be 1-249 characters"),
        ("..", 1, "topic name must be 1-249 characters"),
        ("x" * 250, 1, "topic name must be 1-249 characters"),
        ("loans", 0, "partitions must be >= 1, got 0 for 'loans'"),
    ],
)
def test_spec_rejects_impossible_topics(name: str, partitions: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TopicSpec(name, partitions)


def test_compacted_spec_sets_cleanup_policy_on_top_of_its_config() -> None:
    spec = TopicSpec("institutions", 4, compacted=True, config={"retention.ms": "1000"})
    assert spec.topic_config() == {"retention.ms": "1000", "cleanup.policy": "compact"}


def test_plain_spec_names_no_config() -> None:
    assert TopicSpec("loans", 4).topic_config() == {}


def test_nothing_answers_on_a_closed_port() -> None:
    from stream.broker import free_ports

    (port,) = free_ports(1)
    assert broker_answers(f"127.0.0.1:{port}", timeout=1.0) is False


# --- against the broker ---


@pytest.mark.kafka
def test_session_broker_answers(kafka_broker: str) -> None:
    assert broker_answers(kafka_broker)


@pytest.mark.kafka
def test_ensure_creates_topics_with_their_partitions(
    kafka_broker: str, admin: KafkaAdminClient, names: list[str]
) -> None:
    loans, alerts = _new(names, "loans"), _new(names, "alerts")
    result = ensure_topics(kafka_broker, [TopicSpec(loans, 4), TopicSpec(alerts, 1)])
    assert sorted(result.created) == sorted([loans, alerts])
    assert (_partitions(admin, loans), _partitions(admin, alerts)) == (4, 1)


@pytest.mark.kafka
def test_compacted_topic_is_created_with_compaction(
    kafka_broker: str, admin: KafkaAdminClient, names: list[str]
) -> None:
    institutions = _new(names, "institutions")
    ensure_topics(kafka_broker, [TopicSpec(institutions, 2, compacted=True)])
    assert _config(admin, institutions, "cleanup.policy") == "compact"


@pytest.mark.kafka
def test_ensure_twice_changes_nothing(kafka_broker: str, names: list[str]) -> None:
    specs = [TopicSpec(_new(names, "trades"), 3, compacted=True, config={"retention.ms": "60000"})]
    assert ensure_topics(kafka_broker, specs).changed
    again = ensure_topics(kafka_broker, specs)
    assert not again.changed


@pytest.mark.kafka
def test_ensure_adds_partitions_to_a_smaller_topic(
    kafka_broker: str, admin: KafkaAdminClient, topic_factory: TopicFactory
) -> None:
    loans = topic_factory("loans", partitions=2)
    result = ensure_topics(kafka_broker, [TopicSpec(loans, 6)])
    assert result.grown == {loans: (2, 6)}
    assert _partitions(admin, loans) == 6


@pytest.mark.kafka
def test_ensure_leaves_a_larger_topic_alone(
    kafka_broker: str, admin: KafkaAdminClient, topic_factory: TopicFactory
) -> None:
    loans = topic_factory("loans", partitions=4)
    result = ensure_topics(kafka_broker, [TopicSpec(loans, 2)])
    assert not result.changed
    assert _partitions(admin, loans) == 4


@pytest.mark.kafka
def test_ensure_compacts_an_existing_plain_topic(
    kafka_broker: str, admin: KafkaAdminClient, topic_factory: TopicFactory
) -> None:
    institutions = topic_factory("institutions")
    result = ensure_topics(kafka_broker, [TopicSpec(institutions, 1, compacted=True)])
    assert result.reconfigured == {institutions: {"cleanup.policy": "compact"}}
    assert _config(admin, institutions, "cleanup.policy") == "compact"


@pytest.mark.kafka
def test_broker_refusing_a_new_topic_is_an_error_naming_it(
    kafka_broker: str, names: list[str]
) -> None:
    bad = TopicSpec(_new(names, "loans"), 1, config={"cleanup.policy": "shred"})
    with pytest.raises(TopicError, match=rf"creating topic '{bad.name}' failed: .*shred"):
        ensure_topics(kafka_broker, [bad])


@pytest.mark.kafka
def test_broker_refusing_a_config_change_is_an_error_naming_it(
    kafka_broker: str, topic_factory: TopicFactory
) -> None:
    loans = topic_factory("loans")
    with pytest.raises(TopicError, match=rf"on topic '{loans}' failed: .*shred"):
        ensure_topics(kafka_broker, [TopicSpec(loans, 1, config={"cleanup.policy": "shred"})])


@pytest.mark.kafka
def test_list_topics_hides_internal_topics_unless_asked(
    kafka_broker: str, topic_factory: TopicFactory, kafka_consumer: ConsumerFactory
) -> None:
    loans = topic_factory("loans")
    consumer = kafka_consumer()
    partition = TopicPartition(loans, 0)
    consumer.assign([partition])
    consumer.seek(partition, 0)
    consumer.commit()  # a group's first commit makes the broker create __consumer_offsets
    every = list_topics(kafka_broker, include_internal=True)
    visible = list_topics(kafka_broker)
    assert loans in visible
    assert "__consumer_offsets" not in visible
    assert set(every) - set(visible) == {"__consumer_offsets"}


@pytest.mark.kafka
def test_delete_removes_existing_topics_and_ignores_unknown_ones(
    kafka_broker: str, names: list[str]
) -> None:
    doomed = _new(names, "doomed")
    ensure_topics(kafka_broker, [TopicSpec(doomed, 1)])
    assert delete_topics(kafka_broker, [doomed, unique_name("never-made")]) == [doomed]
    wait_for(lambda: doomed not in list_topics(kafka_broker), timeout=15)
    assert topic_partitions(kafka_broker, [doomed]) == {}
