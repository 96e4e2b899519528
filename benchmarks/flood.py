"""Throughput of good events under a flood of bad ones (issue #9: "throughput of good events
holds").

Two questions, each with runs of one worker on fresh topics, a baseline (the good events alone)
against a flood (the same events interleaved evenly with M hostile records of every kind in
``stream.simulator.hostile``), alternating baseline, flood, flood, baseline so a drifting
machine load favours neither:

- **Paced** (``benchmarks._paced_flood``, the verdict ``good_rate_holds``): the good events
  arrive at the operating load (``--paced-rate``, 300 a second as in the latency benchmark) with
  or without the flood on top. Holds when the flood's median good-event rate keeps at least
  ``TARGET_RATIO`` of the baseline's; the first stage's and the alerts' latency are reported.
- **Saturated** (``good_rate_holds_saturated``): all N events preloaded, read as fast as the
  worker can, after one unmeasured warm-up run. The good-event rate of each kind (N over the
  summed run time), their ratio and the CPU per good event. With no idle time the flood's
  records take their own CPU from the good events: this ratio is what a flood costs at capacity.

Also reported: the dead letters of each flood run (must be M) and the alert dedup keys raised by
one kind of run and not the other. Written to ``benchmarks/results-flood.json``.

``python -m benchmarks.flood --events 5000`` (or ``fenghuo bench --flood``). The worker is
pinned to one core as in ``fenghuo bench``; the rate of a saturated run is N over the time from
the worker being ready to its last processed message.

``dead_letter_costs`` (``--costs``, also in the results) times the worker's own dead-letter path
in this process for each kind of hostile record: decoding, then ``DeadLetterWriter.send`` with
its logging as the worker configures it, to a topic that keeps nothing (the produce itself and
Faust's per-message cost are not in it; the flood runs include them).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click
import orjson
from kafka import KafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry

from benchmarks import _feeds, _paced_flood
from benchmarks._drain import wait_run_drained
from benchmarks._machine import load_average, machine, pin_cores
from benchmarks._worker import WorkerRun
from models import Feed
from stream.admin import delete_topics, list_topics
from stream.broker import KafkaBroker
from stream.codecs import DeadLetter, Origin, decode
from stream.deadletter import DeadLetterWriter, reason_kind
from stream.metrics import StreamMetrics
from stream.settings import KafkaSection, WorkerSettings
from stream.simulator import Simulation, SimulatorConfig
from stream.simulator.hostile import HOSTILE_KINDS, MAX_EVENT_BYTES, Produced, flood, hostile
from stream.simulator.malformed import KINDS as MALFORMED_KINDS
from stream.simulator.producer import prepare_topics
from stream.topics import dead_letter_topic

log = logging.getLogger(__name__)

DEFAULT_OUT = Path(__file__).resolve().parent / "results-flood.json"
#: The flood holds if the good-event rate keeps at least this share of the baseline's.
TARGET_RATIO = 0.8


@dataclass(frozen=True)
class FloodConfig:
    """``events`` good records, ``hostile_per_good`` hostile ones for each (M = N x ratio).

    ``rounds`` pairs of runs in the order baseline, flood, flood, baseline, ... so a machine
    whose load drifts during the benchmark favours neither side; a first, unmeasured warm-up
    run (the baseline's input) takes the cost of a fresh broker and cold caches.
    """

    events: int = 5_000
    hostile_per_good: float = 1.0
    seed: int = 7
    rounds: int = 3
    core: int | None = 1
    bootstrap: str | None = None
    timeout: float = 900.0
    #: The hostile kinds the flood takes in turn (all by default; one, to see what it costs).
    kinds: tuple[str, ...] = HOSTILE_KINDS
    #: Good events a second in the paced runs (``benchmarks._paced_flood``); 0: none.
    paced_rate: float = 300.0
    #: How long the good events of a paced run take to send at ``paced_rate``.
    paced_seconds: float = 40.0
    #: Pairs of paced runs (baseline, flood, flood, baseline, ...).
    paced_rounds: int = 1


@dataclass(frozen=True)
class _Run:
    """One worker run's figures."""

    kind: str
    messages: int
    good: int
    seconds: float
    dead_letters: int
    alerts: frozenset[str]
    uncommitted: int
    peak_rss_bytes: int | None
    #: The machine's 1-minute load average at the end of the run (others share the cores).
    load: float | None
    #: CPU seconds the worker used from ready to stopped: other processes on its core stretch
    #: the run's wall time, not this.
    cpu_seconds: float | None = None

    def figures(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "messages": self.messages,
            "seconds": round(self.seconds, 2),
            "good_events_per_second": _rate(self.good, self.seconds),
            "all_events_per_second": _rate(self.messages, self.seconds),
            "dead_letters": self.dead_letters,
            "alerts": len(self.alerts),
            "alert_keys": sorted(self.alerts),
            "uncommitted_at_end": self.uncommitted,
            "peak_rss_bytes": self.peak_rss_bytes,
            "load_average_1m_at_end": self.load,
            "worker_cpu_seconds": _round(self.cpu_seconds, 2),
        }


def _rate(count: int, seconds: float) -> float | None:
    return round(count / seconds, 1) if seconds > 0 else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return round(value, digits) if value is not None else None


def run_flood(config: FloodConfig) -> dict[str, Any]:
    """Every run; returns the results document (see the module docstring)."""
    affinity = os.sched_getaffinity(0)
    if config.core is not None:
        pin_cores(set(range(os.cpu_count() or 1)) - {config.core})
    try:
        with (
            tempfile.TemporaryDirectory(prefix="fenghuo-flood-") as tmp,
            _broker(config.bootstrap, Path(tmp)) as (bootstrap, version),
        ):
            return _measure(config, bootstrap, version, Path(tmp))
    finally:
        os.sched_setaffinity(0, affinity)


def dead_letter_costs(
    events: int = 3_000, seed: int = 7, *, sample: int = 500, repeats: int = 5
) -> dict[str, Any]:
    """Microseconds per record of the dead-letter path, by kind of hostile record.

    A hostile sibling of each kind for ``sample`` of ``events`` simulated records (evenly
    spread, as the flood's feeds are); ``malformed``'s
    kinds are drawn at random, so they are grouped by what their reason says instead. Each
    figure is the best of ``repeats`` passes (the least disturbed by other processes): decoding
    alone, and decoding plus ``DeadLetterWriter.send`` to a topic that keeps nothing, logging
    through a handler with the worker's format into memory. ``good`` is a valid event's decode.
    """
    simulated = list(Simulation(SimulatorConfig(seed=seed, events=events)).records())
    records = simulated[:: max(1, len(simulated) // sample)]
    rng = random.Random(f"{seed}:costs")
    groups: dict[str, list[tuple[Feed, bytes, Origin]]] = {}
    for serial, record in enumerate(records):
        origin = Origin(record.topic, 0, serial, record.key.encode())
        good = orjson.dumps(record.value)
        groups.setdefault("good", []).append((Feed(record.topic), good, origin))
        for kind in HOSTILE_KINDS:
            topic, key, raw = hostile(record, kind, rng, serial=serial)
            feed, where = Feed(topic), Origin(topic, 0, serial, key.encode())
            if kind in MALFORMED_KINDS:
                letter = decode(feed, raw, where, max_bytes=MAX_EVENT_BYTES)
                why = letter.reason if isinstance(letter, DeadLetter) else "valid"
                kind = f"malformed: {reason_kind(why)}"
            groups.setdefault(kind, []).append((feed, raw, where))
    costs: dict[str, Any] = {}
    with _logged_to_memory():
        for kind, items in groups.items():
            decoding = min(_decode_seconds(items) for _ in range(repeats))
            sending = min(asyncio.run(_send_seconds(items)) for _ in range(repeats))
            costs[kind] = {
                "records": len(items),
                "decode_us": round(decoding / len(items) * 1e6, 1),
                "dead_letter_us": round(sending / len(items) * 1e6, 1),
            }
    return costs


def _decode_seconds(items: list[tuple[Feed, bytes, Origin]]) -> float:
    started = time.perf_counter()
    for feed, raw, origin in items:
        decode(feed, raw, origin, max_bytes=MAX_EVENT_BYTES)
    return time.perf_counter() - started


class _Discard:
    """A dead-letter topic that keeps nothing: the produce is not what is timed here."""

    async def send(self, **_: Any) -> None:
        return None


async def _send_seconds(items: list[tuple[Feed, bytes, Origin]]) -> float:
    topics = {str(feed): _Discard() for feed in Feed}
    writer = DeadLetterWriter(topics, StreamMetrics(CollectorRegistry()))  # type: ignore[arg-type]
    started = time.perf_counter()
    for feed, raw, origin in items:
        decoded = decode(feed, raw, origin, max_bytes=MAX_EVENT_BYTES)
        if isinstance(decoded, DeadLetter):
            await writer.send(str(feed), decoded)
    return time.perf_counter() - started


@contextmanager
def _logged_to_memory() -> Iterator[None]:
    """The worker's log format and level (``fenghuo.logging``), written to a discarded buffer."""
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    saved = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def render_costs(costs: dict[str, Any]) -> str:
    """The per-kind costs as a small table."""
    rows = [("kind", "records", "decode µs", "dead letter µs")] + [
        (kind, str(c["records"]), str(c["decode_us"]), str(c["dead_letter_us"]))
        for kind, c in costs.items()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                  enumerate(zip(row, widths, strict=True)))
        for row in rows
    )  # fmt: skip


@contextmanager
def _broker(bootstrap: str | None, tmp: Path) -> Iterator[tuple[str, str]]:
    version = KafkaBroker().version
    if bootstrap is not None:
        yield bootstrap, version
        return
    broker = KafkaBroker.start_isolated(tmp / "kafka", wait=180.0)
    try:
        yield broker.settings.bootstrap, version
    finally:
        broker.stop()


def _order(rounds: int) -> list[str]:
    """baseline, flood, flood, baseline, baseline, flood, ..."""
    pair = ["baseline", "flood"]
    return [kind for n in range(rounds) for kind in (pair if n % 2 == 0 else pair[::-1])]


def _measure(config: FloodConfig, bootstrap: str, version: str, tmp: Path) -> dict[str, Any]:
    records = list(Simulation(SimulatorConfig(seed=config.seed, events=config.events)).records())
    rng = random.Random(f"{config.seed}:flood")
    mixed = list(flood(records, config.hostile_per_good, rng, kinds=config.kinds))
    good = [produced for produced, is_good in mixed if is_good]
    inputs = {"baseline": good, "flood": [produced for produced, _ in mixed], "warmup": good}
    hostile = len(mixed) - len(good)
    results: dict[str, Any] = {
        "machine": machine(version),
        "config": {**asdict(config), "bootstrap": None if config.bootstrap is None else "given"},
        "hostile_kinds": list(config.kinds),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "good_events": len(good),
        "hostile_events": hostile,
    }
    suffixes: list[str] = []
    runs: list[_Run] = []
    try:
        for kind in ["warmup", *_order(config.rounds)]:
            log.info("%s run %d of %d", kind, len(runs) + 1, 2 * config.rounds + 1)
            runs.append(_run(config, bootstrap, tmp, kind, inputs[kind], len(good), suffixes))
    finally:
        _cleanup(bootstrap, suffixes)
    paced = _measure_paced(config, bootstrap, tmp) if config.paced_rate > 0 else None
    by_kind = {kind: [r for r in runs if r.kind == kind] for kind in ("baseline", "flood")}
    rates = {
        kind: _rate(len(good) * len(done), sum(r.seconds for r in done))
        for kind, done in by_kind.items()
    }
    ratio = (
        round(rates["flood"] / rates["baseline"], 3)
        if rates["flood"] and rates["baseline"]
        else None
    )
    # A load spike from other processes during one run moves the summed rate; the median not.
    per_run = {
        kind: [r.good / r.seconds for r in done if r.seconds > 0] for kind, done in by_kind.items()
    }
    medians = {k: statistics.median(rates) if rates else None for k, rates in per_run.items()}
    median_ratio = (
        round(medians["flood"] / medians["baseline"], 3)
        if medians["flood"] and medians["baseline"]
        else None
    )
    # CPU seconds per good event, which other processes sharing the core do not stretch.
    cpu = {
        kind: sum(r.cpu_seconds for r in done if r.cpu_seconds is not None)
        / (len(good) * len(done))
        if done and all(r.cpu_seconds for r in done)
        else None
        for kind, done in by_kind.items()
    }
    cpu_ratio = (
        round(cpu["baseline"] / cpu["flood"], 3) if cpu["baseline"] and cpu["flood"] else None
    )
    alerts = {kind: frozenset().union(*(r.alerts for r in done)) for kind, done in by_kind.items()}
    dead_lettered = all(r.dead_letters == hostile for r in by_kind["flood"])
    results.update(
        runs=[r.figures() for r in runs],
        baseline_good_events_per_second=rates["baseline"],
        flood_good_events_per_second=rates["flood"],
        good_rate_ratio=ratio,
        median_good_events_per_second={k: _round(v) for k, v in medians.items()},
        good_rate_ratio_of_medians=median_ratio,
        worker_cpu_ms_per_good_event={k: _round(v * 1e3 if v else None, 3) for k, v in cpu.items()},
        good_rate_ratio_by_cpu=cpu_ratio,
        alerts_only_in_baseline=sorted(alerts["baseline"] - alerts["flood"]),
        alerts_only_in_flood=sorted(alerts["flood"] - alerts["baseline"]),
        paced=paced,
        verdict={
            "good_rate_holds": bool(paced and paced["good_rate_holds"]),
            "good_rate_holds_saturated": median_ratio is not None and median_ratio >= TARGET_RATIO,
            "target_ratio": TARGET_RATIO,
            "every_hostile_dead_lettered": dead_lettered,
            "baseline_dead_letters_zero": all(r.dead_letters == 0 for r in by_kind["baseline"]),
            "same_alerts": alerts["baseline"] == alerts["flood"],
        },
        load_average_at_end=load_average(),
        dead_letter_costs=dead_letter_costs(config.events, config.seed),
    )
    return results


def _measure_paced(config: FloodConfig, bootstrap: str, tmp: Path) -> dict[str, Any]:
    """The paced runs (``benchmarks._paced_flood``): good events at the operating load."""
    baseline, flooded, good = _paced_flood.paced_inputs(config)
    inputs = {"baseline": baseline, "flood": flooded}
    suffixes: list[str] = []
    fresh = _paced_flood.fresh_suffix(suffixes)
    runs = []
    try:
        for kind in _order(config.paced_rounds):
            log.info("paced %s run at %g good events/s", kind, config.paced_rate)
            runs.append(
                _paced_flood.paced_run(config, bootstrap, tmp, kind, inputs[kind], good, fresh)
            )
    finally:
        _cleanup(bootstrap, suffixes)
    return {
        "offered_good_events_per_second": config.paced_rate,
        "hostile_per_good": config.hostile_per_good,
        "runs": runs,
        **_paced_flood.summarise(runs, TARGET_RATIO),
    }


def _run(
    config: FloodConfig,
    bootstrap: str,
    tmp: Path,
    kind: str,
    messages: list[Produced],
    good: int,
    suffixes: list[str],
) -> _Run:
    suffix = f"-flood-{uuid.uuid4().hex[:10]}"
    suffixes.append(suffix)
    prepare_topics(WorkerSettings(), bootstrap, suffix)
    _preload(bootstrap, suffix, messages)
    worker = WorkerRun(bootstrap, suffix, tmp, core=config.core)
    worker.start()
    cpu_at_ready: float | None = None
    try:
        worker.wait_ready()
        ready = time.time()
        cpu_at_ready = worker.cpu_now()
        drained = wait_run_drained(
            [worker],
            bootstrap=bootstrap,
            suffix=suffix,
            feed_events=len(messages),
            timeout=config.timeout,
            started=ready,
        )
    finally:
        worker.stop()
    settings = WorkerSettings(kafka=KafkaSection(topic_suffix=suffix))
    return _Run(
        kind=kind,
        messages=len(messages),
        good=good,
        seconds=drained.last - drained.first,
        dead_letters=_end_offsets(
            bootstrap, [dead_letter_topic(settings, feed) for feed in _feeds.FEEDS]
        ),
        alerts=_keys(bootstrap, settings.topic("alerts")),
        uncommitted=drained.uncommitted,
        peak_rss_bytes=worker.peak_rss,
        load=next(iter(load_average()), None),
        cpu_seconds=(
            worker.cpu - cpu_at_ready
            if worker.cpu is not None and cpu_at_ready is not None
            else None
        ),
    )


def _preload(bootstrap: str, suffix: str, messages: list[Produced]) -> None:
    client = _feeds.producer(bootstrap, linger_ms=20)
    try:
        for topic, key, value in messages:
            client.send(topic + suffix, key=key.encode(), value=value)
        client.flush(timeout=120)
    finally:
        client.close(timeout=10)


def _end_offsets(bootstrap: str, topics: list[str]) -> int:
    """Records in ``topics`` (end offsets summed; the topics are never compacted or trimmed)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def _keys(bootstrap: str, topic: str) -> frozenset[str]:
    """The distinct record keys (alert dedup keys) of ``topic``."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    keys: set[str] = set()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for batch in consumer.poll(timeout_ms=500).values():
                keys.update(r.key.decode() for r in batch if r.key is not None)
    finally:
        consumer.close()
    return frozenset(keys)


def _cleanup(bootstrap: str, suffixes: list[str]) -> None:
    try:
        names = [t for t in list_topics(bootstrap) if any(s in t for s in suffixes)]
        delete_topics(bootstrap, names)
    except Exception as exc:  # a broker we started is about to stop anyway
        log.warning("could not delete the flood topics: %s", exc)


def render_flood(results: dict[str, Any]) -> str:
    """The results as a small table: one row per run, then the verdict."""
    header = ("run", "messages", "seconds", "good ev/s", "all ev/s", "dead letters", "alerts")
    rows = [header] + [
        (
            f"{n}. {run['kind']}",
            f"{run['messages']:,}",
            f"{run['seconds']}",
            f"{run['good_events_per_second']}",
            f"{run['all_events_per_second']}",
            f"{run['dead_letters']:,}",
            f"{run['alerts']}",
        )
        for n, run in enumerate(results["runs"], 1)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    verdict = results["verdict"]
    lines += [
        "",
        f"good events {results['good_events']:,}, hostile events {results['hostile_events']:,} "
        "per flood run",
        f"good events/s: baseline {results['baseline_good_events_per_second']}, "
        f"flood {results['flood_good_events_per_second']}; ratio {results['good_rate_ratio']}",
        f"median good events/s: {results['median_good_events_per_second']}; ratio of medians "
        f"{results['good_rate_ratio_of_medians']} (saturated; at >= {verdict['target_ratio']}: "
        f"{verdict.get('good_rate_holds_saturated')})",
        f"worker CPU ms per good event: {results.get('worker_cpu_ms_per_good_event')}; "
        f"ratio by CPU {results.get('good_rate_ratio_by_cpu')}",
        f"every hostile event dead-lettered: {verdict['every_hostile_dead_lettered']}; "
        f"same alerts in both kinds of run: {verdict['same_alerts']}",
    ]
    for side in ("baseline", "flood"):
        if results[f"alerts_only_in_{side}"]:
            lines.append(f"only in {side}: {', '.join(results[f'alerts_only_in_{side}'])}")
    if results.get("paced"):
        lines += ["", *render_paced(results["paced"], verdict["target_ratio"])]
    return "\n".join(lines)


def render_paced(paced: dict[str, Any], target: float) -> list[str]:
    """The paced runs: one line each, then their verdict."""
    lines = [f"paced at {paced['offered_good_events_per_second']:g} good events/s offered:"]
    for n, run in enumerate(paced["runs"], 1):
        stage, alert = run["first_stage_latency_seconds"], run["event_to_alert_seconds"]
        lines.append(
            f"  {n}. {run['kind']}: {run['good_events_per_second']} good ev/s, caught up "
            f"{run['catch_up_seconds']} s after the last send; first stage p50 {stage['p50']} "
            f"p99 {stage['p99']} s; alerts ({run['opened_alerts']}) p50 {alert['p50']} "
            f"p99 {alert['p99']} s"
        )
    lines.append(
        f"median good events/s: {paced['median_good_events_per_second']}; ratio "
        f"{paced['good_rate_ratio']} (holds at >= {target}: {paced['good_rate_holds']})"
    )
    return lines


def write(results: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


@click.command()
@click.option("--events", "-n", default=5_000, show_default=True, help="Good events.")
@click.option(
    "--hostile-per-good", default=1.0, show_default=True, help="Hostile records per good one."
)
@click.option("--seed", default=7, show_default=True, help="Simulator and flood seed.")
@click.option(
    "--rounds", default=3, show_default=True, help="Pairs of runs (baseline, flood, flood, ...)."
)
@click.option(
    "--core", default=1, show_default=True, help="Core the worker is pinned to (-1: none)."
)
@click.option("--bootstrap", default=None, help="Use this broker instead of starting one.")
@click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True)
@click.option(
    "--kinds",
    default=",".join(HOSTILE_KINDS),
    show_default=True,
    help="Hostile kinds the flood takes in turn, comma-separated.",
)
@click.option(
    "--paced-rate",
    default=300.0,
    show_default=True,
    help="Good events a second offered in the paced runs (0: no paced runs).",
)
@click.option(
    "--paced-seconds", default=40.0, show_default=True, help="Length of a paced run's sending."
)
@click.option(
    "--paced-rounds", default=1, show_default=True, help="Pairs of paced runs (baseline, flood)."
)
@click.option(
    "--costs",
    is_flag=True,
    help="Only time the dead-letter path per hostile kind in this process (no Kafka).",
)
def main(
    events: int,
    hostile_per_good: float,
    seed: int,
    rounds: int,
    core: int,
    bootstrap: str | None,
    out: Path,
    kinds: str,
    paced_rate: float,
    paced_seconds: float,
    paced_rounds: int,
    costs: bool,
) -> None:
    """Good-event throughput of one worker alone and under a flood of hostile records."""
    if costs:
        click.echo(render_costs(dead_letter_costs(events, seed)))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = FloodConfig(
        events=events,
        hostile_per_good=hostile_per_good,
        seed=seed,
        rounds=rounds,
        core=None if core < 0 else core,
        bootstrap=bootstrap,
        kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()),
        paced_rate=paced_rate,
        paced_seconds=paced_seconds,
        paced_rounds=paced_rounds,
    )
    results = run_flood(config)
    write(results, out)
    click.echo(render_flood(results))
    click.echo(f"results written to {out}")


if __name__ == "__main__":
    main()
