"""Small test helpers: wait for a condition with a deadline, unique names, read records back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline (a test failure, not an error)."""


def wait_for(
    condition: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.1,
    message: str | None = None,
) -> T:
    """Call ``condition`` until it returns something truthy, and return that; never sleep blind.

    Raises ``WaitTimeout`` naming the condition once ``timeout`` seconds have passed.
    """
    if timeout <= 0 or interval <= 0:
        raise ValueError(f"timeout and interval must be > 0, got {timeout} and {interval}")
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            name = getattr(condition, "__name__", repr(condition))
            raise WaitTimeout(message or f"{name} did not hold within {timeout} s")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def unique_name(prefix: str) -> str:
    """``prefix`` plus a short uuid, for topics and consumer groups shared by concurrent runs."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def consume(consumer: KafkaConsumer, count: int, timeout: float = 15.0) -> list[ConsumerRecord]:
    """Poll until ``count`` records arrived (in arrival order); fail at the deadline."""
    records: list[ConsumerRecord] = []

    def enough() -> bool:
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
        return len(records) >= count

    try:
        wait_for(enough, timeout, interval=0.01)
    except WaitTimeout:
        raise WaitTimeout(f"got {len(records)} of {count} records within {timeout} s") from None
    return records
