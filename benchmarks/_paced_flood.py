"""Good events at the operating load, alone and under a flood (``benchmarks.flood``'s paced runs).

The saturated runs ask how much a flood takes from a worker with no idle time. A feed does not
arrive that way: its events come at some rate, and the question a risk officer has is whether
they are still processed at that rate, and how late, while a broken or hostile producer floods
the same topics. Here the good events are produced at ``paced_rate`` a second (the latency
benchmark's offered load), alone or interleaved with the flood's hostile records, and measured:
the good events processed a second (from the first send to the worker's last processed message),
how long the worker took to finish after the last send, and how late each good loan was
re-keyed by the first stage (send to the ``loans-by-borrower`` record's produce time) and each
alert opened (send of its triggering event to the alert's produce time).
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from benchmarks import _feeds
from benchmarks._drain import wait_run_drained
from benchmarks._latency import AlertTap, opened_latencies, percentile
from benchmarks._worker import WorkerRun
from stream.settings import WorkerSettings
from stream.simulator import Simulation, SimulatorConfig
from stream.simulator.hostile import flood
from stream.simulator.producer import prepare_topics

if TYPE_CHECKING:
    from benchmarks.flood import FloodConfig

#: Event ids given to the hostile records (they may have none of their own).
HOSTILE_ID = "hostile-"
#: How long the taps may take, after the worker drained, to read every re-keyed loan.
TAP_SECONDS = 15.0


def paced_inputs(config: FloodConfig) -> tuple[list[_feeds.Message], list[_feeds.Message], int]:
    """(baseline messages, flood messages, good events): ``paced_rate`` x ``paced_seconds``."""
    count = int(config.paced_rate * config.paced_seconds)
    records = list(Simulation(SimulatorConfig(seed=config.seed + 1, events=count)).records())
    rng = random.Random(f"{config.seed}:paced")
    mixed = list(flood(records, config.hostile_per_good, rng, kinds=config.kinds))
    messages, good = [], []
    for n, ((topic, key, value), is_good) in enumerate(mixed):
        event_id = str(orjson.loads(value)["event_id"]) if is_good else f"{HOSTILE_ID}{n}"
        message = _feeds.Message(topic, key.encode(), value, event_id)
        messages.append(message)
        if is_good:
            good.append(message)
    return good, messages, len(good)


def paced_run(
    config: FloodConfig,
    bootstrap: str,
    tmp: Path,
    kind: str,
    messages: list[_feeds.Message],
    good: int,
    fresh: Callable[[], str],
) -> dict[str, Any]:
    """One paced run of ``messages`` (``kind``: baseline or flood); its figures."""
    suffix = fresh()
    prepare_topics(WorkerSettings(), bootstrap, suffix)
    topics = {feed: feed + suffix for feed in _feeds.FEEDS}
    worker = WorkerRun(bootstrap, suffix, tmp, core=config.core)
    alerts = AlertTap(bootstrap, "alerts" + suffix)
    rekeyed = AlertTap(bootstrap, "loans-by-borrower" + suffix)
    worker.start()
    try:
        worker.wait_ready()
        alerts.start()
        rekeyed.start()
        rate = config.paced_rate * len(messages) / good
        began = time.time()
        paced = _feeds.paced(bootstrap, topics, messages, rate=rate)
        sent_last = time.time()
        drained = wait_run_drained(
            [worker],
            bootstrap=bootstrap,
            suffix=suffix,
            feed_events=len(messages),
            timeout=config.timeout,
            started=began,
        )
        loans = sum(1 for m in messages if m.feed == "loans" and not _hostile(m))
        _wait_until(lambda: len(rekeyed.records) >= loans, seconds=TAP_SECONDS)
        time.sleep(1.0)  # the last alerts reach their tap
    finally:
        alerts.stop()
        rekeyed.stop()
        worker.stop()
    return _figures(kind, good, began, sent_last, drained.last, paced, alerts, rekeyed, worker)


def _hostile(message: _feeds.Message) -> bool:
    return message.event_id.startswith(HOSTILE_ID)


def _wait_until(condition: Callable[[], bool], *, seconds: float) -> None:
    """Poll ``condition`` for up to ``seconds`` (a tap thread on a busy machine may lag)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)


def _figures(
    kind: str,
    good: int,
    began: float,
    sent_last: float,
    last: float,
    paced: _feeds.Paced,
    alerts: AlertTap,
    rekeyed: AlertTap,
    worker: WorkerRun,
) -> dict[str, Any]:
    stage = [
        stamp - paced.sent_at[doc["event_id"]]
        for stamp, doc in rekeyed.records
        if doc.get("event_id") in paced.sent_at
    ]
    opened = opened_latencies(alerts.records, paced.sent_at)
    return {
        "kind": kind,
        "good_events": good,
        "offered_messages_per_second": round(paced.rate, 1),
        "seconds": round(last - began, 2),
        "good_events_per_second": round(good / (last - began), 1),
        "catch_up_seconds": round(max(0.0, last - sent_last), 2),
        "rekeyed_loans": len(stage),
        "first_stage_latency_seconds": _quantiles(stage),
        "opened_alerts": len(opened),
        "event_to_alert_seconds": _quantiles(opened),
        "peak_rss_bytes": worker.peak_rss,
    }


def _quantiles(values: list[float]) -> dict[str, float | None]:
    return {
        f"p{int(q * 100)}": None if not values else round(percentile(values, q) or 0.0, 4)
        for q in (0.5, 0.95, 0.99)
    } | {"max": round(max(values), 4) if values else None}


def summarise(runs: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """Median good-event rate of each kind, their ratio, and the verdict at ``target``."""
    medians = {
        kind: statistics.median(r["good_events_per_second"] for r in runs if r["kind"] == kind)
        for kind in ("baseline", "flood")
        if any(r["kind"] == kind for r in runs)
    }
    ratio = (
        round(medians["flood"] / medians["baseline"], 3)
        if medians.get("flood") and medians.get("baseline")
        else None
    )
    return {
        "median_good_events_per_second": medians,
        "good_rate_ratio": ratio,
        "good_rate_holds": ratio is not None and ratio >= target,
    }


def fresh_suffix(suffixes: list[str]) -> Callable[[], str]:
    """A maker of fresh topic suffixes, each remembered in ``suffixes`` for the clean-up."""

    def fresh() -> str:
        suffix = f"-paced-{uuid.uuid4().hex[:10]}"
        suffixes.append(suffix)
        return suffix

    return fresh
