"""When has a worker (or a group of workers) processed everything? Its metrics stop moving
and its consumer group has committed every source topic's end offset.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from benchmarks._worker import Scrape, WorkerRun

#: Topics a worker consumes (configured names; a run's suffix is added).
SOURCES = ("institutions", "loans", "guarantees", "trades", "loans-by-borrower",
           "guarantee-network", "findings")  # fmt: skip
#: A scrape renders every metric of the worker; more often than this costs it ~10 % of its core.
POLL_SECONDS = 1.0
#: Metrics unchanged this long (and no lag) means done.
SETTLE_SECONDS = 3.0
#: Metrics unchanged this long means stalled: the run ends with the uncommitted lag reported.
STALL_SECONDS = 45.0


@dataclass(frozen=True, slots=True)
class Drained:
    """First processed message, first-stage end, last processed message (epoch seconds)."""

    first: float
    feeds_done: float
    last: float
    processed: float
    consumed: float
    scrape: Scrape | None
    #: Messages the group had not committed when the run ended (0 unless it stalled).
    uncommitted: int = 0


def group_lag(bootstrap: str, group: str, topics: Sequence[str]) -> int:
    """Messages of ``topics`` the group has not committed yet (uncommitted partitions count
    from the start)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        committed = admin.list_group_offsets(group).get(group, {})
        tps = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = consumer.end_offsets(tps)
    finally:
        consumer.close()
        admin.close()
    lag = 0
    for tp, end in ends.items():
        meta = committed.get(tp)
        done = meta.offset if meta is not None and meta.offset >= 0 else 0
        lag += max(0, end - done)
    return lag


def wait_drained(
    workers: Sequence[WorkerRun],
    *,
    bootstrap: str,
    group: str,
    topics: Sequence[str],
    feed_events: int,
    timeout: float,
    started: float = 0.0,
) -> Drained:
    """Poll the workers' metrics until all ``feed_events`` went through every stage.

    The run starts at ``started`` (epoch s, when the worker was seen ready) if given, else at
    the first scrape showing processed messages.
    """
    deadline = time.monotonic() + timeout
    first, feeds_done, last = started, 0.0, 0.0
    total = consumed = -1.0
    scrape: Scrape | None = None
    while time.monotonic() < deadline:
        for worker in workers:
            worker.sample_rss()
            if not worker.alive():
                raise RuntimeError(f"worker exited during the run:\n{worker.log_tail()}")
        scrapes = [s for s in (w.scrape() for w in workers) if s is not None]
        now = time.time()
        if len(scrapes) == len(workers):
            scrape = scrapes[0]
            processed = sum(s.processed for s in scrapes)
            consumed = sum(s.consumed for s in scrapes)
            if processed > 0 and not first:
                first = now
            if processed != total:
                total, last = processed, now
            if consumed >= feed_events and not feeds_done:
                feeds_done = now
            quiet = now - last
            settled = bool(feeds_done) and quiet >= SETTLE_SECONDS
            # A feed event counted under no outcome would hold this forever: lag decides.
            stuck = first and quiet >= 4 * SETTLE_SECONDS
            if settled or stuck:
                lag = group_lag(bootstrap, group, topics)
                if lag == 0 or quiet >= STALL_SECONDS:
                    # The workers' own clock of their last message, not this poll's (up to
                    # POLL_SECONDS late): same machine, same clock.
                    ended = max((s.last_processed for s in scrapes), default=0.0) or last
                    feeds_end = min(feeds_done, ended) if feeds_done else ended
                    return Drained(
                        first, feeds_end, ended, total, consumed, scrape, uncommitted=lag
                    )
        time.sleep(POLL_SECONDS)
    raise TimeoutError(
        f"not drained within {timeout:.0f} s: {consumed:.0f} of {feed_events} feed events "
        f"consumed, {total:.0f} messages processed"
    )


def wait_run_drained(
    workers: Sequence[WorkerRun],
    *,
    bootstrap: str,
    suffix: str,
    feed_events: int,
    timeout: float,
    started: float = 0.0,
) -> Drained:
    """``wait_drained`` for the workers of one run: their group, the run's source topics."""
    return wait_drained(
        workers,
        bootstrap=bootstrap,
        group=workers[0].app_id,
        topics=[name + suffix for name in SOURCES],
        feed_events=feed_events,
        timeout=timeout,
        started=started,
    )
