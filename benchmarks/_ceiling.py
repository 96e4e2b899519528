"""The ceiling: a bare aiokafka consumer reading the feed topics, nothing else.

Run as a child process (``python -m benchmarks._ceiling``) so it can be pinned to the worker's
core; it prints one JSON line: events read, seconds from the consumer's start to the last
record, and the rate. It connects with the worker's ``[kafka]`` security options (TLS, SASL).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from aiokafka import AIOKafkaConsumer

from stream.security import aiokafka_options
from stream.settings import KafkaSection, WorkerSettings

#: Give up when nothing new arrives for this long (the topics hold fewer records than asked).
IDLE_SECONDS = 30.0


async def read_all(
    bootstrap: str, topics: list[str], expected: int, security: KafkaSection | None = None
) -> dict[str, Any]:
    """Read ``expected`` records from the start of ``topics`` without a group or decoding."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **(aiokafka_options(security) if security is not None else {}),
    )
    await consumer.start()
    read, last = 0, 0.0
    # From the moment the consumer can fetch, as the worker's clock runs from its start.
    first = idle_since = time.monotonic()
    try:
        while read < expected and time.monotonic() - idle_since < IDLE_SECONDS:
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            got = sum(len(records) for records in batches.values())
            if not got:
                continue
            now = time.monotonic()
            last, idle_since = now, now
            read += got
    finally:
        await consumer.stop()
    seconds = last - first
    return {
        "events": read,
        "seconds": round(seconds, 3),
        "events_per_second": round(read / seconds, 1) if seconds > 0 else None,
    }


def main(argv: list[str]) -> None:
    bootstrap, expected, *topics = argv
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    security = WorkerSettings().kafka
    result = asyncio.run(read_all(bootstrap, topics, int(expected), security))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
