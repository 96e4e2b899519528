"""Bad input goes to ``<feed>.dlq``: the original bytes as value, the reason in the headers.

Nothing the worker cannot use is dropped silently: a consumer of the dead-letter topic sees
exactly what arrived, where it came from and why it was refused, and can fix and resend it.
Dead letters go out through the Faust app's own producer, so they use the app's TLS and SASL
credentials (``stream.security``); there is no second Kafka connection to secure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from faust.types import TopicT

from stream.codecs import DeadLetter
from stream.metrics import StreamMetrics

log = logging.getLogger(__name__)

REASON = "fenghuo-reason"
TOPIC = "fenghuo-topic"
PARTITION = "fenghuo-partition"
OFFSET = "fenghuo-offset"
#: A reason quotes at most this much (contract errors can repeat a long value).
MAX_REASON_BYTES = 2000
#: The log line gives ids and a short reason, never the payload.
MAX_LOGGED_REASON = 300


def headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """The dead letter's Kafka headers: why, and where the original message was."""
    reason = letter.reason.encode("utf-8")[:MAX_REASON_BYTES]
    return [
        (REASON, reason),
        (TOPIC, letter.topic.encode()),
        (PARTITION, str(letter.partition).encode()),
        (OFFSET, str(letter.offset).encode()),
    ]


class DeadLetterWriter:
    """Produces dead letters to the dead-letter topic of their feed and counts them.

    Parameters
    ----------
    topics : mapping of feed name to Faust topic
        The ``<feed>.dlq`` topic of each feed (raw key and value serializers).
    metrics : StreamMetrics
        ``fenghuo_stream_events_total{outcome="dead_lettered"}`` is counted here.
    """

    def __init__(self, topics: Mapping[str, TopicT], metrics: StreamMetrics) -> None:
        self.topics = dict(topics)
        self.metrics = metrics

    async def send(self, feed: str, letter: DeadLetter) -> None:
        log.warning(
            "dead letter %s[%d]@%d event_id=%s: %s",
            letter.topic,
            letter.partition,
            letter.offset,
            letter.event_id or "-",
            letter.reason[:MAX_LOGGED_REASON],
        )
        await self.topics[feed].send(
            key=letter.key, value=letter.raw, headers=headers(letter), force=True
        )
        self.metrics.events.labels(feed, "dead_lettered").inc()
