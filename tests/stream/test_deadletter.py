"""Dead letters carry the original bytes and say why and where, in headers."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import CollectorRegistry

from stream.codecs import DeadLetter
from stream.deadletter import MAX_REASON_BYTES, DeadLetterWriter, headers
from stream.metrics import StreamMetrics

LETTER = DeadLetter(
    reason="not JSON: unexpected character",
    raw=b"\xff\x00garbage",
    topic="loans",
    partition=3,
    offset=1207,
    key=b"FJ-MC-0007",
)


class RecordingTopic:
    """Stands in for a Faust topic in this unit test: records what would be produced."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def test_headers_name_the_reason_and_the_original_position() -> None:
    assert dict(headers(LETTER)) == {
        "fenghuo-reason": b"not JSON: unexpected character",
        "fenghuo-topic": b"loans",
        "fenghuo-partition": b"3",
        "fenghuo-offset": b"1207",
    }


def test_a_very_long_reason_is_cut_to_the_header_limit() -> None:
    letter = DeadLetter("x" * (MAX_REASON_BYTES + 500), b"{}", "loans", 0, 0)

    assert len(dict(headers(letter))["fenghuo-reason"]) == MAX_REASON_BYTES


def test_writer_produces_the_original_bytes_to_the_feed_dead_letter_topic() -> None:
    loans_dlq, trades_dlq = RecordingTopic(), RecordingTopic()
    writer = DeadLetterWriter(
        {"loans": loans_dlq, "trades": trades_dlq},  # type: ignore[dict-item]
        StreamMetrics(CollectorRegistry()),
    )

    asyncio.run(writer.send("loans", LETTER))

    assert trades_dlq.sent == []
    assert loans_dlq.sent == [
        {
            "key": b"FJ-MC-0007",
            "value": b"\xff\x00garbage",
            "headers": headers(LETTER),
            "force": True,
        }
    ]


def test_writer_counts_each_dead_letter_by_feed() -> None:
    registry = CollectorRegistry()
    writer = DeadLetterWriter({"loans": RecordingTopic()}, StreamMetrics(registry))  # type: ignore[dict-item]

    asyncio.run(writer.send("loans", LETTER))
    asyncio.run(writer.send("loans", LETTER))

    sample = registry.get_sample_value(
        "fenghuo_stream_events_total", {"feed": "loans", "outcome": "dead_lettered"}
    )
    assert sample == 2.0
