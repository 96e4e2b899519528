"""Dead letters carry the original bytes and say why and where, in headers; the log gives the
first of an interval one by one and a summary of the rest."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from stream.codecs import DeadLetter
from stream.deadletter import (
    MAX_REASON_BYTES,
    SUMMARY_REASONS,
    DeadLetterLog,
    DeadLetterWriter,
    headers,
    reason_kind,
)
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


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def letter(reason: str = "not JSON: unexpected character", offset: int = 0) -> DeadLetter:
    return DeadLetter(reason, b"{", "loans", 0, offset)


def logged_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "stream.deadletter"]


def test_only_the_first_dead_letters_of_an_interval_are_logged_one_by_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deadletters = DeadLetterLog(first=3, interval=60.0, clock=Clock())

    for offset in range(10):
        deadletters.note("loans", letter(offset=offset))

    lines = logged_lines(caplog)
    assert [line.split(" event_id")[0] for line in lines] == [
        "dead letter loans[0]@0",
        "dead letter loans[0]@1",
        "dead letter loans[0]@2",
    ]


def test_the_unlogged_dead_letters_are_summarised_by_reason_when_the_interval_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    deadletters = DeadLetterLog(first=1, interval=60.0, clock=clock)
    for offset in range(4):
        deadletters.note("loans", letter(offset=offset))
    for size in (70000, 70001):
        deadletters.note("loans", letter(f"message of {size} bytes exceeds 65536"))
    caplog.clear()

    clock.now += 60.0
    deadletters.note("loans", letter(offset=99))

    summary, line = logged_lines(caplog)
    assert summary.startswith(
        "dead letters on loans: 5 more in 60 s not logged one by one, by reason: "
        "not JSON (3); message of N bytes exceeds N (2) "
    )
    assert line.startswith("dead letter loans[0]@99 ")


def test_a_summary_names_the_most_frequent_reasons_and_counts_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deadletters = DeadLetterLog(first=0, interval=60.0, clock=Clock())
    for n in range(SUMMARY_REASONS + 2):
        for _ in range(n + 1):
            deadletters.note("loans", letter(f"reason {chr(ord('a') + n)}: details"))

    deadletters.summarise("loans")

    (summary,) = logged_lines(caplog)
    assert "reason g (7); reason f (6)" in summary
    assert "reason b" not in summary
    assert "; 2 other reasons (each is on" in summary


def test_each_feed_has_its_own_log_budget(caplog: pytest.LogCaptureFixture) -> None:
    deadletters = DeadLetterLog(first=1, interval=60.0, clock=Clock())

    for feed in ("loans", "loans", "trades"):
        deadletters.note(feed, letter())

    assert len(logged_lines(caplog)) == 2


def test_nothing_is_summarised_when_every_dead_letter_was_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deadletters = DeadLetterLog(first=5, interval=60.0, clock=Clock())
    deadletters.note("loans", letter())
    caplog.clear()

    deadletters.summarise("loans")

    assert logged_lines(caplog) == []


def test_the_summary_is_written_at_the_end_of_the_interval_without_another_letter(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def flood_then_wait() -> None:
        deadletters = DeadLetterLog(first=0, interval=0.05)
        deadletters.note("loans", letter())
        deadline = time.monotonic() + 5.0
        while not logged_lines(caplog) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    asyncio.run(flood_then_wait())

    (summary,) = logged_lines(caplog)
    assert summary.startswith("dead letters on loans: 1 more in 0.05 s not logged one by one")


def test_unlogged_dead_letters_are_still_produced_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry, loans_dlq = CollectorRegistry(), RecordingTopic()
    writer = DeadLetterWriter(
        {"loans": loans_dlq},  # type: ignore[dict-item]
        StreamMetrics(registry),
        DeadLetterLog(first=1, interval=60.0, clock=Clock()),
    )

    async def send_five() -> None:
        for offset in range(5):
            await writer.send("loans", letter(offset=offset))

    asyncio.run(send_five())

    assert len(logged_lines(caplog)) == 1
    assert [sent["value"] for sent in loans_dlq.sent] == [b"{"] * 5
    sample = registry.get_sample_value(
        "fenghuo_stream_events_total", {"feed": "loans", "outcome": "dead_lettered"}
    )
    assert sample == 5.0


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("not JSON: unexpected character: line 1 column 1 (char 0)", "not JSON"),
        ("breaks the loans contract: principal: 'a lot' is not of type 'number'",
         "breaks the loans contract"),
        ("message of 70123 bytes exceeds 65536", "message of N bytes exceeds N"),
        ("empty message", "empty message"),
    ],
)  # fmt: skip
def test_reason_kind_drops_the_details_of_a_reason(reason: str, kind: str) -> None:
    assert reason_kind(reason) == kind


@pytest.mark.parametrize(
    ("first", "interval", "message"),
    [(-1, 60.0, "first must be >= 0, got -1"), (1, 0.0, "interval must be > 0 seconds, got 0.0")],
)
def test_dead_letter_log_refuses_impossible_settings(
    first: int, interval: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        DeadLetterLog(first=first, interval=interval)
