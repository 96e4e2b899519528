"""The broker launcher on real JVMs: start, status, stop, restart, and its failure messages."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from stream.broker import (
    BrokerError,
    BrokerSettings,
    KafkaBroker,
    MissingToolError,
    default_home,
    find_repo_root,
)
from tests.fixtures.kafka import START_WAIT_SECONDS, ConsumerFactory, ProducerFactory, TopicFactory
from tests.helpers import consume

VERSION = KafkaBroker().version


def _fake_jars(libs: Path) -> Path:
    """A libs dir that only claims to hold the pinned jars (enough to get past fetch)."""
    libs.mkdir(parents=True)
    (libs / ".fetched-version").write_text(VERSION + "\n")
    return libs


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """A second isolated broker that these tests may stop and restart."""
    broker = KafkaBroker.start_isolated(
        tmp_path_factory.mktemp("own-kafka"), wait=START_WAIT_SECONDS
    )
    yield broker
    broker.stop()


# --- without a running broker ---


def test_home_defaults_to_var_kafka_in_the_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FENGHUO_VAR_DIR", raising=False)
    assert default_home() == find_repo_root() / "var" / "kafka"


def test_var_dir_env_moves_the_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FENGHUO_VAR_DIR", str(tmp_path))
    assert BrokerSettings().home == tmp_path / "kafka"
    assert BrokerSettings().libs_dir == tmp_path / "kafka" / "libs"


def test_isolated_broker_uses_free_ports_and_shares_the_dev_jars(tmp_path: Path) -> None:
    broker = KafkaBroker.isolated(tmp_path)
    assert broker.settings.home == tmp_path.resolve()
    assert {broker.settings.port, broker.settings.controller_port}.isdisjoint({19092, 19093})
    assert broker.settings.libs_dir == BrokerSettings().libs_dir


def test_fetch_is_skipped_when_the_pinned_jars_are_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = KafkaBroker(BrokerSettings(home=tmp_path, libs=_fake_jars(tmp_path / "libs")))
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn: fetch must not need it
    assert broker.fetch() is False


@pytest.mark.slow
def test_fetch_copies_the_pinned_jars_once(tmp_path: Path) -> None:
    broker = KafkaBroker(BrokerSettings(home=tmp_path, libs=tmp_path / "libs"))
    assert broker.fetch() is True
    assert (tmp_path / "libs" / f"kafka_2.13-{VERSION}.jar").is_file()
    assert (tmp_path / "libs" / f"kafka-clients-{VERSION}.jar").is_file()
    assert broker.is_fetched()
    assert broker.fetch() is False
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".libs-")] == []


def test_start_names_java_when_path_lacks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = KafkaBroker.isolated(tmp_path, libs=_fake_jars(tmp_path / "libs"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingToolError, match="java is not on PATH"):
        broker.start(wait=5)


def test_start_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        broker = KafkaBroker(BrokerSettings(home=tmp_path, port=taken, controller_port=taken + 1))
        with pytest.raises(BrokerError, match=rf"127\.0\.0\.1:{taken}: Address already in use"):
            broker.start(wait=5)


def test_jvm_dying_at_start_fails_with_the_log_tail(tmp_path: Path) -> None:
    broker = KafkaBroker.isolated(tmp_path, libs=_fake_jars(tmp_path / "libs"))
    broker = KafkaBroker(
        BrokerSettings(
            home=broker.settings.home,
            port=broker.settings.port,
            controller_port=broker.settings.controller_port,
            heap="1k",  # the JVM refuses to boot
            initial_heap="1k",
            libs=broker.settings.libs_dir,
        )
    )
    broker.data_dir.mkdir(parents=True)
    (broker.data_dir / "meta.properties").write_text("formatted\n")  # skip the format step
    with pytest.raises(BrokerError, match=r"(?s)Kafka exited with status 1 .*heap"):
        broker.start(wait=30)
    assert not broker.pid_file.exists()


def test_stale_pid_file_of_another_process_is_not_the_broker(tmp_path: Path) -> None:
    broker = KafkaBroker.isolated(tmp_path)
    broker.pid_file.parent.mkdir(parents=True, exist_ok=True)
    broker.pid_file.write_text(f"{os.getpid()}\n")  # alive, but not a Kafka JVM
    assert not broker.is_running()
    assert broker.stop() is False
    assert not broker.pid_file.exists()


def test_status_of_a_stopped_broker(tmp_path: Path) -> None:
    state = KafkaBroker.isolated(tmp_path).status()
    assert (state.running, state.answering, state.pid) == (False, False, None)
    assert state.version == VERSION


# --- real brokers ---


@pytest.mark.kafka
def test_started_broker_answers_and_reports_its_pid(own_broker: KafkaBroker) -> None:
    state = own_broker.status()
    assert state.running and state.answering
    assert state.pid == int(own_broker.pid_file.read_text())
    assert state.bootstrap == f"127.0.0.1:{own_broker.settings.port}"


@pytest.mark.kafka
def test_start_when_already_running_returns_at_once(own_broker: KafkaBroker) -> None:
    assert own_broker.start() == 0.0
    other_launcher = KafkaBroker(own_broker.settings)
    assert other_launcher.is_running()
    assert other_launcher.start() == 0.0


@pytest.mark.kafka
def test_stop_is_clean_and_data_survives_a_restart(own_broker: KafkaBroker) -> None:
    from kafka import KafkaConsumer, KafkaProducer

    bootstrap = own_broker.settings.bootstrap
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send("survivors", key=b"FJ-MC-0001", value=b"kept").get(timeout=30)
    producer.close()

    assert own_broker.stop() is True
    assert not own_broker.is_running()
    assert not own_broker.pid_file.exists()
    assert (own_broker.data_dir / ".kafka_cleanshutdown").is_file()

    assert own_broker.start(wait=START_WAIT_SECONDS) > 0
    consumer = KafkaConsumer(
        "survivors", bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    try:
        assert [r.value for r in consume(consumer, 1, timeout=30)] == [b"kept"]
    finally:
        consumer.close()


@pytest.mark.kafka
def test_start_gives_up_and_stops_the_jvm_after_wait(tmp_path: Path) -> None:
    broker = KafkaBroker.isolated(tmp_path)
    with pytest.raises(BrokerError, match=r"did not answer on 127\.0\.0\.1:\d+ within 1 s"):
        broker.start(wait=1.0)
    assert not broker.is_running()


@pytest.mark.kafka
def test_round_trip_through_the_session_broker(
    topic_factory: TopicFactory,
    kafka_producer: ProducerFactory,
    kafka_consumer: ConsumerFactory,
) -> None:
    topic = topic_factory("round-trip", partitions=3)
    producer = kafka_producer()
    sent = {f"FJ-MC-{n:04d}".encode(): f"loan {n}".encode() for n in range(12)}
    for key, value in sent.items():
        producer.send(topic, key=key, value=value)
    producer.flush(timeout=30)

    records = consume(kafka_consumer(topic), len(sent))
    assert {r.key: r.value for r in records} == sent
    assert {r.partition for r in records} <= {0, 1, 2}
