"""Bad input goes to ``<feed>.dlq``: the original bytes as value, the reason in the headers.

Nothing the worker cannot use is dropped silently: a consumer of the dead-letter topic sees
exactly what arrived, where it came from and why it was refused, and can fix and resend it.
Dead letters go out through the Faust app's own producer, so they use the app's TLS and SASL
credentials (``stream.security``); there is no second Kafka connection to secure.

The log is not the record: the first dead letters of each feed in an interval get a WARNING
line each (ids and a short reason), the rest one summary line per interval counting them by
reason. A flood of bad records would otherwise be one log line per record, nearly half of what
sending its dead letter cost the worker (docs/reliability.md, the flood profile);
``fenghuo_stream_events_total{outcome="dead_lettered"}`` counts every one and the ``.dlq`` topic
keeps every one with its full reason.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from stream.codecs import DeadLetter
from stream.metrics import StreamMetrics
from stream.outlets import Outlet

log = logging.getLogger(__name__)

REASON = "fenghuo-reason"
TOPIC = "fenghuo-topic"
PARTITION = "fenghuo-partition"
OFFSET = "fenghuo-offset"
#: A reason quotes at most this much (contract errors can repeat a long value).
MAX_REASON_BYTES = 2000
#: The log line gives ids and a short reason, never the payload.
MAX_LOGGED_REASON = 300
#: Dead letters of a feed logged one by one in each interval; the rest go into its summary.
LOG_FIRST = 10
LOG_INTERVAL_SECONDS = 60.0
#: Reasons a summary names, most frequent first.
SUMMARY_REASONS = 5
_NUMBER = re.compile(r"\d+")


def headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """The dead letter's Kafka headers: why, and where the original message was."""
    reason = letter.reason.encode("utf-8")[:MAX_REASON_BYTES]
    return [
        (REASON, reason),
        (TOPIC, letter.topic.encode()),
        (PARTITION, str(letter.partition).encode()),
        (OFFSET, str(letter.offset).encode()),
    ]


def reason_kind(reason: str) -> str:
    """What a reason says before its details: ``not JSON``, ``breaks the loans contract``,
    ``message of N bytes exceeds N``; so a summary can count reasons that differ in detail."""
    return _NUMBER.sub("N", reason.split(":", 1)[0][:60])


@dataclass
class _Window:
    """One feed's current log interval."""

    started: float
    logged: int = 0
    unlogged: Counter[str] = field(default_factory=Counter)
    summary_due: asyncio.TimerHandle | None = None


class DeadLetterLog:
    """Logs the first ``first`` dead letters of a feed per ``interval`` seconds one by one; the
    others are counted by reason and summarised in one WARNING line when the interval ends.

    The summary is written by a timer on the running event loop at the end of the interval, or
    at the feed's next dead letter when there is no loop (the same line either way).
    """

    def __init__(
        self,
        first: int = LOG_FIRST,
        interval: float = LOG_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if first < 0:
            raise ValueError(f"first must be >= 0, got {first}")
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval}")
        self.first = first
        self.interval = interval
        self.clock = clock
        self._windows: dict[str, _Window] = {}

    def note(self, feed: str, letter: DeadLetter) -> None:
        """Log ``letter`` or count it for its feed's summary."""
        now = self.clock()
        window = self._windows.get(feed)
        if window is None or now - window.started >= self.interval:
            if window is not None:
                self.summarise(feed)
            window = self._windows[feed] = _Window(started=now)
        if window.logged < self.first:
            window.logged += 1
            log.warning(
                "dead letter %s[%d]@%d event_id=%s: %s",
                letter.topic,
                letter.partition,
                letter.offset,
                letter.event_id or "-",
                letter.reason[:MAX_LOGGED_REASON],
            )
            return
        window.unlogged[reason_kind(letter.reason)] += 1
        if window.summary_due is None:
            window.summary_due = _call_later(
                window.started + self.interval - now, self.summarise, feed
            )

    def summarise(self, feed: str) -> None:
        """Log how many dead letters of ``feed`` this interval were not logged, and why."""
        window = self._windows.get(feed)
        if window is None:
            return
        if window.summary_due is not None:
            window.summary_due.cancel()
            window.summary_due = None
        if not window.unlogged:
            return
        count = sum(window.unlogged.values())
        reasons = "; ".join(
            f"{kind} ({n:,})" for kind, n in window.unlogged.most_common(SUMMARY_REASONS)
        )
        others = len(window.unlogged) - SUMMARY_REASONS
        log.warning(
            "dead letters on %s: %s more in %g s not logged one by one, by reason: %s%s "
            "(each is on the feed's dead-letter topic with its full reason)",
            feed,
            f"{count:,}",
            self.interval,
            reasons,
            f"; {others} other reasons" if others > 0 else "",
        )
        window.unlogged = Counter()


def _call_later(
    delay: float, callback: Callable[[str], None], feed: str
) -> asyncio.TimerHandle | None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return loop.call_later(max(delay, 0.0), callback, feed)


class DeadLetterWriter:
    """Produces dead letters to the dead-letter topic of their feed and counts them.

    Parameters
    ----------
    topics : mapping of feed name to outlet
        The ``<feed>.dlq`` topic of each feed.
    metrics : StreamMetrics
        ``fenghuo_stream_events_total{outcome="dead_lettered"}`` is counted here.
    log : DeadLetterLog, optional
        What is logged of each dead letter (default: the first 10 per feed a minute one by one,
        a summary of the rest).
    """

    def __init__(
        self,
        topics: Mapping[str, Outlet],
        metrics: StreamMetrics,
        log: DeadLetterLog | None = None,
    ) -> None:
        self.topics = dict(topics)
        self.metrics = metrics
        self.log = log if log is not None else DeadLetterLog()
        # ``labels()`` takes a lock and checks its values: 5 µs a letter, once per feed here.
        self._counters = {
            feed: metrics.events.labels(feed, "dead_lettered") for feed in self.topics
        }

    async def send(self, feed: str, letter: DeadLetter) -> None:
        self.log.note(feed, letter)
        await self.topics[feed].send(key=letter.key, value=letter.raw, headers=headers(letter))
        self._counters[feed].inc()
