"""The framework floor: a Faust app whose agents read the feed topics and do nothing else.

The worker runs on faust-streaming; this measures what Faust's own per-message path (fetch,
``Message`` and ``Event`` objects, the stream, the acks, the worker's batching) allows one core
before a single event is decoded or scored, so the worker's rate can be read against it as well
as against the bare consumer. Run as a child process (``python -m benchmarks._floor``), pinned
like the worker; it prints one JSON line: events read, seconds from the partitions' assignment
(the moment the worker's own clock starts, "ready") to the last event, the rate, and the CPU
seconds the process spent meanwhile. Not from the first batch an agent sees: by then the
consumer may have read many messages into the streams' buffers, unclocked.
Same transport settings as the worker (``stream.app.new_faust_app``: fetch size, TLS/SASL from
``[kafka]``, memory store), uvloop.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import Any

import faust
from faust.types import StreamT

from stream.agents._batching import arrived
from stream.app import new_faust_app
from stream.settings import WorkerSettings

#: Give up when nothing new arrives for this long (the topics hold fewer records than asked).
IDLE_SECONDS = 30.0


@dataclass
class Tally:
    """Events read so far and when; the process exits once ``expected`` are read."""

    expected: int
    read: int = 0
    first: float = 0.0
    last: float = 0.0
    cpu_at_first: float = 0.0

    def start(self) -> None:
        """Start the clocks (once): the partitions are assigned, reading begins."""
        if not self.first:
            self.first, self.cpu_at_first = time.monotonic(), time.process_time()

    def add(self, count: int) -> None:
        self.start()
        self.read += count
        self.last = time.monotonic()

    def result(self) -> dict[str, Any]:
        seconds = self.last - self.first
        return {
            "events": self.read,
            "seconds": round(seconds, 3),
            "events_per_second": round(self.read / seconds, 1) if seconds > 0 else None,
            "cpu_seconds": round(time.process_time() - self.cpu_at_first, 3) if self.read else None,
        }


def floor_app(bootstrap: str, topics: list[str], tally: Tally, datadir: str) -> faust.App:
    """A Faust app with one agent per topic that batches and acks events like the worker."""
    configured = WorkerSettings()  # the [kafka] security options, on the benchmark's broker
    kafka = configured.kafka.model_copy(update={"bootstrap": bootstrap})
    settings = configured.model_copy(update={"kafka": kafka})
    app = new_faust_app(settings, f"fenghuo-bench-floor-{uuid.uuid4().hex[:8]}", datadir=datadir)
    for name in topics:
        topic = app.topic(name, key_serializer="raw", value_serializer="raw")

        async def read(stream: StreamT[bytes]) -> None:
            async for batch in arrived(stream):
                tally.add(len(batch))

        app.agent(topic, name=f"floor-{name}", concurrency=1)(read)

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # faust types it as sync
    async def assigned(sender: faust.App, **_: Any) -> None:
        tally.start()

    return app


async def _finish(tally: Tally) -> None:
    seen, idle_since = -1, time.monotonic()
    while tally.read < tally.expected and time.monotonic() - idle_since < IDLE_SECONDS:
        if tally.read != seen:
            seen, idle_since = tally.read, time.monotonic()
        await asyncio.sleep(0.1)
    # On a line of its own: Faust's worker writes terminal control codes to stdout.
    sys.stdout.write("\n" + json.dumps(tally.result()) + "\n")
    sys.stdout.flush()
    os._exit(0)  # the figure is out: no need to wait for Faust's orderly shutdown


def main(argv: list[str]) -> None:
    bootstrap, expected, *topics = argv
    tally = Tally(int(expected))
    with tempfile.TemporaryDirectory(prefix="fenghuo-floor-") as datadir:
        app = floor_app(bootstrap, topics, tally, datadir)
        worker = faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False)

        @app.task
        async def finish() -> None:
            await _finish(tally)

        worker.execute_from_commandline()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    main(sys.argv[1:])
