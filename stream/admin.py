"""Topic administration: declare topics as data and make the broker match, idempotently.

The worker calls ``ensure_topics`` at start with the specs built from its settings, so a fresh
broker, a restarted one and one where the partition count was raised all end in the same state.
Kafka cannot remove partitions, so a spec asking for fewer than exist leaves the topic alone.
Every function takes ``security=`` (the ``[kafka]`` section) for brokers that need TLS or SASL;
None connects in plaintext.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import KafkaError, for_code

from stream.security import kafka_python_options
from stream.settings import KafkaSection

__all__ = [
    "BrokerUnavailable",
    "EnsureResult",
    "TopicError",
    "TopicSpec",
    "broker_answers",
    "delete_topics",
    "ensure_topics",
    "list_topics",
    "topic_partitions",
]

logger = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36
_UNKNOWN_TOPIC = 3


class TopicError(RuntimeError):
    """The broker refused to create, grow, configure or delete a topic; the message says why."""


class BrokerUnavailable(ConnectionError):
    """No broker could be reached; the message gives the client's last reason (refused TLS
    handshake, failed SASL authentication), never a credential."""


#: The connection prefix kafka-python puts before a reason (``<KafkaConnection ...>: ``).
_CONNECTION_PREFIX = re.compile(r"^(<[^>]*>: )+")


class _LastReason(logging.Handler):
    """Keeps the most telling connection error kafka-python logged (it only raises a timeout).

    An authentication or TLS handshake failure beats a bare "socket disconnected".
    """

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.reason: str | None = None
        self.telling = False
        self.dropped = False

    def emit(self, record: logging.LogRecord) -> None:
        text = _CONNECTION_PREFIX.sub("", record.getMessage())
        self.dropped = self.dropped or "socket disconnected" in text
        telling = any(word in text for word in ("Authentication", "Handshake", "SSL"))
        if telling or not self.telling:
            self.reason, self.telling = text, telling


@contextlib.contextmanager
def _last_reason() -> Iterator[_LastReason]:
    handler = _LastReason()
    client_log = logging.getLogger("kafka")
    client_log.addHandler(handler)
    try:
        yield handler
    finally:
        client_log.removeHandler(handler)


@dataclass(frozen=True)
class TopicSpec:
    """A topic as the worker needs it. ``config`` keys are set on create and on every ensure.

    ``compacted=True`` adds ``cleanup.policy=compact`` (keep the latest record per key).
    """

    name: str
    partitions: int
    compacted: bool = False
    config: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or self.name in {".", ".."} or len(self.name) > 249:
            raise ValueError(
                f"topic name must be 1-249 characters, not '.' or '..', got {self.name!r}"
            )
        if self.partitions < 1:
            raise ValueError(f"partitions must be >= 1, got {self.partitions} for {self.name!r}")

    def topic_config(self) -> dict[str, str]:
        config = {key: str(value) for key, value in self.config.items()}
        if self.compacted:
            config["cleanup.policy"] = "compact"
        return config


@dataclass
class EnsureResult:
    """What ``ensure_topics`` changed: created topics, grown ones (old, new), config set."""

    created: list[str] = field(default_factory=list)
    grown: dict[str, tuple[int, int]] = field(default_factory=dict)
    reconfigured: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.grown or self.reconfigured)


@contextlib.contextmanager
def _admin(
    bootstrap: str, timeout: float, security: KafkaSection | None = None
) -> Iterator[KafkaAdminClient]:
    millis = int(timeout * 1000)
    with _last_reason() as last:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap,
                client_id="fenghuo-admin",
                request_timeout_ms=millis,
                bootstrap_timeout_ms=millis,
                **(kafka_python_options(security) if security is not None else {}),
            )
        except KafkaError as error:
            protocol = security.security_protocol if security is not None else "PLAINTEXT"
            hint = ""
            if last.dropped and not last.telling:
                hint = " (the broker closed the connection: does its listener expect TLS/SASL?)"
            raise BrokerUnavailable(
                f"cannot connect to Kafka at {bootstrap} over {protocol}: "
                f"{last.reason or error}{hint}"
            ) from None
    try:
        yield admin
    finally:
        admin.close()


def _error_text(code: int, message: str | None) -> str:
    return message or for_code(code).__name__


def _partition_counts(admin: KafkaAdminClient, names: Iterable[str]) -> dict[str, int]:
    wanted = set(names) & set(admin.list_topics())
    if not wanted:
        return {}
    return {
        topic["name"]: len(topic["partitions"])
        for topic in admin.describe_topics(sorted(wanted))
        if topic["error_code"] == 0
    }


def _current_config(admin: KafkaAdminClient, name: str, keys: Iterable[str]) -> dict[str, str]:
    resource = ConfigResource(ConfigResourceType.TOPIC, name, configs=dict.fromkeys(keys))
    described: dict[str, Any] = admin.describe_configs([resource], config_filter="all")
    entries = described.get("topic", {}).get(name, {})
    return {key: entry["value"] for key, entry in entries.items()}


def _create(
    admin: KafkaAdminClient,
    specs: list[TopicSpec],
    replication_factor: int | None,
    timeout: float,
) -> tuple[list[str], list[str]]:
    """Create ``specs``; returns (created, already existing because another process won)."""
    request = {
        spec.name: {
            "num_partitions": spec.partitions,
            "replication_factor": replication_factor or -1,
            "configs": spec.topic_config(),
        }
        for spec in specs
    }
    millis = int(timeout * 1000)
    response = admin.create_topics(request, timeout_ms=millis, raise_errors=False)
    created, raced = [], []
    for topic in response["topics"]:
        code = topic["error_code"]
        if code == 0:
            created.append(topic["name"])
        elif code == _TOPIC_ALREADY_EXISTS:
            raced.append(topic["name"])
        else:
            text = _error_text(code, topic.get("error_message"))
            raise TopicError(f"creating topic {topic['name']!r} failed: {text}")
    if created:  # usable only once every partition has a leader
        admin.wait_for_topics(created, timeout_ms=millis)
    return created, raced


def _add_partitions(admin: KafkaAdminClient, name: str, total: int, timeout: float) -> None:
    response = admin.create_partitions(
        {name: total}, timeout_ms=int(timeout * 1000), raise_errors=False
    )
    for topic in response.results:
        if topic.error_code:
            text = _error_text(topic.error_code, topic.error_message)
            raise TopicError(f"growing topic {name!r} to {total} partitions failed: {text}")


def _set_config(admin: KafkaAdminClient, name: str, config: dict[str, str]) -> None:
    resource = ConfigResource(ConfigResourceType.TOPIC, name, configs=config)
    outcome = admin.alter_configs([resource])["topic"][name]
    if outcome != "OK":
        raise TopicError(f"setting {config} on topic {name!r} failed: {outcome}")


def ensure_topics(
    bootstrap: str,
    specs: Iterable[TopicSpec],
    *,
    replication_factor: int | None = None,
    timeout: float = 30.0,
    security: KafkaSection | None = None,
) -> EnsureResult:
    """Create missing topics, add partitions to smaller ones, set the configs the specs name.

    ``replication_factor=None`` takes the broker default (1 on the local single node).
    """
    by_name = {spec.name: spec for spec in specs}
    result = EnsureResult()
    with _admin(bootstrap, timeout, security) as admin:
        counts = _partition_counts(admin, by_name)
        missing = [spec for name, spec in by_name.items() if name not in counts]
        if missing:
            result.created, raced = _create(admin, missing, replication_factor, timeout)
            counts.update(_partition_counts(admin, raced))
        for name, count in counts.items():
            spec = by_name[name]
            if count < spec.partitions:
                _add_partitions(admin, name, spec.partitions, timeout)
                result.grown[name] = (count, spec.partitions)
            elif count > spec.partitions:
                logger.warning(
                    "topic %s has %d partitions, more than the %d declared; Kafka cannot "
                    "remove partitions, leaving it",
                    name,
                    count,
                    spec.partitions,
                )
            wanted = spec.topic_config()
            if not wanted:
                continue
            current = _current_config(admin, name, wanted)
            differing = {key: value for key, value in wanted.items() if current.get(key) != value}
            if differing:
                _set_config(admin, name, differing)
                result.reconfigured[name] = differing
    if result.changed:
        logger.info(
            "topics: created %s, grown %s, reconfigured %s",
            result.created,
            result.grown,
            result.reconfigured,
        )
    return result


def broker_answers(
    bootstrap: str,
    *,
    node_id: int | None = None,
    timeout: float = 5.0,
    security: KafkaSection | None = None,
) -> bool:
    """The broker answers a metadata request and lists a live broker (``node_id`` if given).

    False, never an exception, while it is down or still starting: callers poll this.
    """
    host, _, port = bootstrap.rpartition(":")
    try:  # a refused TCP connect is the cheap, quiet answer while the JVM boots
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except (OSError, ValueError):
        return False
    try:
        with _admin(bootstrap, timeout, security) as admin:
            brokers = admin.describe_cluster().get("brokers", [])
    except Exception as error:  # any client failure means "not answering yet"
        logger.debug("broker at %s not answering: %r", bootstrap, error)
        return False
    return any(
        not broker.get("is_fenced") and node_id in (None, broker["broker_id"]) for broker in brokers
    )


def topic_partitions(
    bootstrap: str,
    names: Iterable[str],
    *,
    timeout: float = 30.0,
    security: KafkaSection | None = None,
) -> dict[str, int]:
    """Partition count of each existing topic among ``names`` (missing ones are left out)."""
    with _admin(bootstrap, timeout, security) as admin:
        return _partition_counts(admin, names)


def list_topics(
    bootstrap: str,
    *,
    include_internal: bool = False,
    timeout: float = 30.0,
    security: KafkaSection | None = None,
) -> list[str]:
    """Topic names on the broker, sorted; internal ones (``__consumer_offsets``) on request."""
    with _admin(bootstrap, timeout, security) as admin:
        names: list[str] = admin.list_topics()
    return sorted(name for name in names if include_internal or not name.startswith("__"))


def delete_topics(
    bootstrap: str,
    names: Iterable[str],
    *,
    timeout: float = 30.0,
    security: KafkaSection | None = None,
) -> list[str]:
    """Delete the topics among ``names`` that exist; returns those deleted."""
    with _admin(bootstrap, timeout, security) as admin:
        existing = sorted(set(names) & set(admin.list_topics()))
        if not existing:
            return []
        response = admin.delete_topics(existing, timeout_ms=int(timeout * 1000), raise_errors=False)
    deleted = []
    for topic in response["topics"]:
        name, code = topic["name"], topic["error_code"]
        if code == 0:
            deleted.append(name)
        elif code != _UNKNOWN_TOPIC:
            raise TopicError(
                f"deleting topic {name!r} failed: {_error_text(code, topic.get('error_message'))}"
            )
    return sorted(deleted)
