"""Producing feed records to Kafka: the simulator and ``fenghuo replay`` share this.

Values are JSON bytes under the key the contract names for the topic (contracts/
history-format.md). The producer batches (linger, gzip) and paces itself to a wall-clock rate
when asked; topic names come from the worker's settings plus an optional suffix, so a test can
use its own uuid topics on a shared broker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import orjson
from kafka import KafkaProducer

from models.categories import Feed
from models.history import HistoryRecord
from stream.admin import ensure_topics
from stream.security import kafka_python_options
from stream.settings import KafkaSection, WorkerSettings

logger = logging.getLogger(__name__)

FEEDS = (Feed.INSTITUTIONS, Feed.LOANS, Feed.GUARANTEES, Feed.TRADES)


def feed_topics(settings: WorkerSettings, suffix: str | None = None) -> dict[str, str]:
    """Feed -> real topic name (the configured name plus ``suffix`` or the configured one)."""
    extra = settings.kafka.topic_suffix if suffix is None else suffix
    return {str(f): getattr(settings.kafka.topics, str(f)).name + extra for f in FEEDS}


def prepare_topics(settings: WorkerSettings, bootstrap: str, suffix: str | None) -> None:
    """Create the worker's topics (with the suffix) before producing, as the worker would.

    The admin client connects with the security options of ``settings.kafka``.
    """
    from stream.topics import topic_specs

    effective = settings.model_copy(deep=True)
    if suffix is not None:
        effective.kafka.topic_suffix = suffix
    ensure_topics(bootstrap, topic_specs(effective), security=settings.kafka)


class FeedProducer:
    """Sends feed records to their topics, batched and optionally paced.

    Parameters
    ----------
    bootstrap : str
        ``host:port`` of the broker.
    topics : dict
        Feed name -> topic name (see ``feed_topics``).
    rate : float, default 0
        Records per wall-clock second; 0 sends as fast as the broker takes them.
    security : KafkaSection, optional
        TLS/SASL options (``stream.security``); None connects in plaintext.
    """

    def __init__(
        self,
        bootstrap: str,
        topics: dict[str, str],
        *,
        rate: float = 0.0,
        linger_ms: int = 20,
        compression: str = "gzip",
        security: KafkaSection | None = None,
        **config: Any,
    ) -> None:
        self.topics = topics
        self.rate = rate
        self.sent = 0
        self.failed = 0
        self._started = time.monotonic()
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            linger_ms=linger_ms,
            compression_type=compression,
            batch_size=256 * 1024,
            acks=1,
            **(kafka_python_options(security) if security is not None else {}),
            **config,
        )

    def send_record(self, record: HistoryRecord) -> None:
        self.send(record.topic, record.key, orjson.dumps(record.value))

    def send(self, feed: str, key: str | None, value: bytes) -> None:
        """Queue one value; blocks only to keep to the configured rate."""
        self._pace()
        future = self._producer.send(
            self.topics[feed], key=key.encode() if key is not None else None, value=value
        )
        future.add_errback(self._failed)
        self.sent += 1

    def send_all(self, records: Iterable[HistoryRecord]) -> int:
        count = 0
        for record in records:
            self.send_record(record)
            count += 1
        return count

    def _pace(self) -> None:
        if self.rate <= 0:
            return
        due = self._started + self.sent / self.rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _failed(self, exc: BaseException) -> None:
        self.failed += 1
        if self.failed <= 5:
            logger.error("producing failed: %s", exc)

    def flush(self, timeout: float | None = 60.0) -> None:
        self._producer.flush(timeout=timeout)

    def close(self) -> None:
        self._producer.flush(timeout=60.0)
        self._producer.close(timeout=10.0)

    def __enter__(self) -> FeedProducer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
