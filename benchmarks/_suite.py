"""The benchmark itself: broker, preloads, the ceiling, the worker runs, the figures.

Each measurement runs on its own uuid-suffixed topics and consumer group, so runs never read
each other's state. The worker under test is pinned to one core (``core``); this process, the
producer and a broker it starts stay off that core when the machine has another.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient

from benchmarks import _feeds
from benchmarks._drain import Drained, wait_run_drained
from benchmarks._latency import AlertTap, histogram_quantile, opened_latencies, percentile
from benchmarks._machine import load_average, machine, pin_cores
from benchmarks._profile import Sampler, render, summarise
from benchmarks._worker import REPO, WorkerRun
from stream.admin import delete_topics, list_topics
from stream.broker import KafkaBroker
from stream.settings import WorkerSettings
from stream.simulator.producer import prepare_topics

log = logging.getLogger(__name__)

GIB = 1024**3
TARGETS = {
    "events_per_second": 15_000,
    "ratio_to_ceiling": 0.5,
    "p99_seconds": 0.100,
    "peak_rss_bytes": GIB,
}


@dataclass(frozen=True)
class BenchConfig:
    """What to measure. ``bootstrap`` None starts an isolated broker in a temp directory."""

    events: int = 50_000
    seed: int = 7
    rate: float = 3_000.0
    latency_seconds: float = 20.0
    borrowers: int = 100_000
    graph_nodes: int = 10_000
    core: int | None = 1
    bootstrap: str | None = None
    scaling_workers: int = 2
    latency: bool = True
    scale: bool = True
    scaling: bool = True
    profile: Path | None = None
    timeout: float = 900.0


def run_bench(config: BenchConfig) -> dict[str, Any]:
    """Run every measurement ``config`` asks for and return the results document."""
    affinity = os.sched_getaffinity(0)
    if config.core is not None:
        pin_cores(set(range(os.cpu_count() or 1)) - {config.core})
    try:
        return _run(config)
    finally:
        os.sched_setaffinity(0, affinity)


def _run(config: BenchConfig) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="fenghuo-bench-") as tmp,
        _broker(config.bootstrap, Path(tmp)) as (bootstrap, kafka_version),
    ):
        bench = _Bench(config, bootstrap, Path(tmp))
        results: dict[str, Any] = {
            "machine": machine(kafka_version),
            "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
            "targets": TARGETS,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        try:
            results["throughput"] = bench.throughput()
            if config.profile is not None:
                results["profile"] = _attempt(bench.profile, config.profile)
            if config.latency:
                results["latency"] = _attempt(bench.latency)
            if config.scaling and config.scaling_workers > 1:
                results["scaling"] = _attempt(bench.scaling)
            if config.scale:
                results["memory_at_scale"] = _attempt(bench.memory_at_scale)
        finally:
            bench.cleanup()
        results["verdict"] = verdict(results)
        results["load_average_at_end"] = load_average()
        return results


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


class _Bench:
    def __init__(self, config: BenchConfig, bootstrap: str, tmp: Path) -> None:
        self.config = config
        self.bootstrap = bootstrap
        self.tmp = tmp
        self.suffixes: list[str] = []
        self._simulated: list[_feeds.Message] | None = None
        self._throughput_suffix = ""

    # -- helpers --

    def topics(self, suffix: str) -> dict[str, str]:
        return {feed: feed + suffix for feed in _feeds.FEEDS}

    def fresh(self) -> str:
        suffix = f"-bench-{uuid.uuid4().hex[:10]}"
        self.suffixes.append(suffix)
        prepare_topics(WorkerSettings(), self.bootstrap, suffix)
        return suffix

    def simulated(self) -> list[_feeds.Message]:
        if self._simulated is None:
            log.info("simulating %d events (seed %d)", self.config.events, self.config.seed)
            self._simulated = _feeds.simulated(self.config.events, seed=self.config.seed)
        return self._simulated

    def worker(self, suffix: str, **kwargs: Any) -> WorkerRun:
        kwargs.setdefault("core", self.config.core)
        return WorkerRun(self.bootstrap, suffix, self.tmp, **kwargs)

    def drain(
        self, workers: list[WorkerRun], suffix: str, events: int, started: float = 0.0
    ) -> Drained:
        return wait_run_drained(
            workers,
            bootstrap=self.bootstrap,
            suffix=suffix,
            feed_events=events,
            timeout=self.config.timeout,
            started=started,
        )

    def cleanup(self) -> None:
        try:
            names = [t for t in list_topics(self.bootstrap) if any(s in t for s in self.suffixes)]
            delete_topics(self.bootstrap, names)
        except Exception as exc:  # a broker we started is about to stop anyway
            log.warning("could not delete the benchmark topics: %s", exc)

    # -- measurements --

    def throughput(self) -> dict[str, Any]:
        """(a) the bare consumer's rate and (b) one worker's sustained rate, same topics."""
        messages = self.simulated()
        suffix = self.fresh()
        self._throughput_suffix = suffix
        began = time.monotonic()
        _feeds.preload(self.bootstrap, self.topics(suffix), messages)
        preload_seconds = time.monotonic() - began
        ceiling = self.ceiling(suffix, len(messages))
        floor = self.floor(suffix, len(messages))
        worker = self.worker(suffix)
        load = load_average()
        worker.start()
        try:
            worker.wait_ready()
            ready, cpu_at_ready = time.time(), worker.cpu_now() or 0.0
            drained = self.drain([worker], suffix, len(messages), started=ready)
            cpu = (worker.cpu_now() or 0.0) - cpu_at_ready
        finally:
            worker.stop()
        seconds = drained.last - drained.first
        rate = len(messages) / seconds if seconds > 0 else None
        ceiling_rate = ceiling.get("events_per_second")
        return {
            "events": len(messages),
            "events_by_feed": _feeds.counts(messages),
            "preload_seconds": round(preload_seconds, 2),
            "ceiling": ceiling,
            "worker": {
                "seconds": round(seconds, 2),
                "events_per_second": _round(rate),
                "feed_stage_seconds": round(drained.feeds_done - drained.first, 2),
                "messages_processed_all_stages": drained.processed,
                "uncommitted_at_end": drained.uncommitted,
                "peak_rss_bytes": worker.peak_rss,
                "core": self.config.core,
                # Below 1 while it waits (on the broker, timers, batches), not computes.
                "cpu_share_of_core": _round(cpu / seconds, 2) if seconds > 0 else None,
            },
            "ratio_to_ceiling": _ratio(rate, ceiling_rate),
            "framework_floor": floor,
            "ratio_to_floor": _ratio(rate, floor.get("events_per_second")),
            "load_average": load,
        }

    def ceiling(self, suffix: str, expected: int) -> dict[str, Any]:
        """The bare aiokafka consumer on the feed topics (``benchmarks._ceiling``)."""
        return self._reader("benchmarks._ceiling", suffix, expected)

    def floor(self, suffix: str, expected: int) -> dict[str, Any]:
        """A Faust app reading the feed topics and doing nothing else (``benchmarks._floor``)."""
        return self._reader("benchmarks._floor", suffix, expected)

    def _reader(self, module: str, suffix: str, expected: int) -> dict[str, Any]:
        """Run a reader of the feed topics pinned to the worker's core; its JSON answer."""
        core = self.config.core
        pin = (lambda: os.sched_setaffinity(0, {core})) if core is not None else None
        answer = subprocess.run(
            [sys.executable, "-m", module, self.bootstrap, str(expected),
             *self.topics(suffix).values()],
            cwd=REPO, capture_output=True, text=True, check=True, preexec_fn=pin,
            timeout=self.config.timeout,
        )  # fmt: skip
        result: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
        result["load_average"] = load_average()
        return result

    def profile(self, out: Path) -> dict[str, Any]:
        """The throughput run again with py-spy attached (own group on the same topics)."""
        suffix = self._throughput_suffix
        worker = self.worker(suffix, app_id=f"fenghuo-bench-profile-{uuid.uuid4().hex[:8]}")
        raw = out.with_suffix(".raw")
        worker.start()
        assert worker.process is not None
        worker.wait_ready()
        sampler = Sampler(worker.process.pid, raw)
        sampler.start()
        try:
            drained = self.drain([worker], suffix, len(self.simulated()))
        finally:
            sampler.stop()
            worker.stop()
        seconds = drained.last - drained.first
        summary = summarise(raw)
        rate = _round(len(self.simulated()) / seconds)
        title = f"py-spy, {len(self.simulated()):,} preloaded events, {rate} ev/s while sampled"
        out.write_text(render(summary, title), encoding="utf-8")
        return {
            "file": out.name,
            "seconds_under_profiler": round(seconds, 2),
            "events_per_second_under_profiler": rate,
            "top_own": summary["own"][:10],  # type: ignore[index]
        }

    def latency(self) -> dict[str, Any]:
        """(c) event-to-alert latency at a fixed offered load."""
        count = int(self.config.rate * self.config.latency_seconds)
        messages = _feeds.simulated(count, seed=self.config.seed + 1)
        suffix = self.fresh()
        worker = self.worker(suffix)
        tap = AlertTap(self.bootstrap, "alerts" + suffix)
        worker.start()
        try:
            worker.wait_ready()
            tap.start()
            load = load_average()
            paced = _feeds.paced(self.bootstrap, self.topics(suffix), messages,
                                 rate=self.config.rate)  # fmt: skip
            drained = self.drain([worker], suffix, len(messages))
            time.sleep(1.0)  # the last alerts' records reach the tap
        finally:
            tap.stop()
            worker.stop()
        latencies = opened_latencies(tap.records, paced.sent_at)
        buckets = drained.scrape.latency_buckets if drained.scrape else {}
        return {
            "offered_rate": self.config.rate,
            "achieved_offered_rate": round(paced.rate, 1),
            "events": len(messages),
            "alerts_records": len(tap.records),
            "opened_alerts_measured": len(latencies),
            "method": "alert record timestamp (worker produce time) minus the wall time the "
            "triggering event was handed to the producer; opened alerts only",
            "p50_seconds": _round(percentile(latencies, 0.50), 4),
            "p95_seconds": _round(percentile(latencies, 0.95), 4),
            "p99_seconds": _round(percentile(latencies, 0.99), 4),
            "max_seconds": _round(max(latencies) if latencies else None, 4),
            "worker_histogram_ingest_to_alert": {
                f"p{int(q * 100)}_seconds": _round(histogram_quantile(buckets, q), 4)
                for q in (0.5, 0.95, 0.99)
            },
            "peak_rss_bytes": worker.peak_rss,
            "load_average": load,
        }

    def memory_at_scale(self) -> dict[str, Any]:
        """(d) peak RSS with many tracked borrowers and a large guarantee graph."""
        messages = _feeds.large_book(self.config.borrowers, self.config.graph_nodes,
                                     seed=self.config.seed)  # fmt: skip
        suffix = self.fresh()
        _feeds.preload(self.bootstrap, self.topics(suffix), messages)
        worker = self.worker(suffix)
        load = load_average()
        worker.start()
        try:
            drained = self.drain([worker], suffix, len(messages))
        except RuntimeError as exc:  # a crash: its reason and the peak RSS reached before it
            return {
                "borrowers": self.config.borrowers,
                "guarantee_graph_nodes": self.config.graph_nodes,
                "events": len(messages),
                "error": error_summary(str(exc)),
                "peak_rss_bytes_before_failure": worker.peak_rss,
                "load_average": load,
            }
        finally:
            worker.stop()
        seconds = drained.last - drained.first
        return {
            "borrowers": self.config.borrowers,
            "guarantee_graph_nodes": self.config.graph_nodes,
            "events": len(messages),
            "events_per_second": _round(len(messages) / seconds if seconds > 0 else None),
            "peak_rss_bytes": worker.peak_rss,
            "peak_rss_mib": _round(worker.peak_rss / 2**20 if worker.peak_rss else None, 1),
            "load_average": load,
        }

    def scaling(self) -> dict[str, Any]:
        """Several workers in one group on the same preloaded feeds: rate and assignment."""
        messages = self.simulated()
        suffix = self.fresh()
        _feeds.preload(self.bootstrap, self.topics(suffix), messages)
        cores = os.cpu_count() or 1
        app_id = f"fenghuo-bench-scaling{suffix}"
        workers = [self.worker(suffix, app_id=app_id, core=n % cores)
                   for n in range(self.config.scaling_workers)]  # fmt: skip
        load = load_average()
        for worker in workers:
            worker.start()
        try:
            drained = self.drain(workers, suffix, len(messages))
            members = describe_group(self.bootstrap, app_id, suffix)
        finally:
            for worker in workers:
                worker.stop()
        seconds = drained.last - drained.first
        return {
            "workers": len(workers),
            "partitions_per_feed": WorkerSettings().kafka.topics.loans.partitions,
            "events": len(messages),
            "seconds": round(seconds, 2),
            "combined_events_per_second": _round(len(messages) / seconds if seconds else None),
            "uncommitted_at_end": drained.uncommitted,
            "feed_events_counted": drained.consumed,
            "rebalances_seen_per_worker": [w.assignments() for w in workers],
            "final_assignment": members,
            "peak_rss_bytes": [w.peak_rss for w in workers],
            "load_average": load,
        }


def describe_group(bootstrap: str, group: str, suffix: str) -> list[dict[str, Any]]:
    """Each member of the group and the partitions of the run's topics it holds."""
    logging.getLogger("kafka.admin._groups").setLevel(logging.ERROR)  # Faust's user data
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        description = admin.describe_groups([group]).get(group, {})
    finally:
        admin.close()
    members = []
    for member in description.get("members", []):
        assignment = member.get("member_assignment") or b""
        if isinstance(assignment, bytes | bytearray):
            pairs = _assignment(bytes(assignment))
        else:
            pairs = [
                (i["topic"], i["partitions"]) for i in assignment.get("assigned_partitions", [])
            ]
        held = {t.removesuffix(suffix): sorted(p) for t, p in pairs if t.endswith(suffix)}
        members.append({"member_id": member.get("member_id"), "partitions": held})
    return members


def _assignment(raw: bytes) -> list[tuple[str, list[int]]]:
    """Decode a consumer-protocol assignment (version, [topic, [partition]], user data)."""
    pos = 2
    (topics,) = struct.unpack_from(">i", raw, pos)
    pos += 4
    pairs = []
    for _ in range(max(topics, 0)):
        (size,) = struct.unpack_from(">h", raw, pos)
        topic = raw[pos + 2 : pos + 2 + size].decode()
        pos += 2 + size
        (count,) = struct.unpack_from(">i", raw, pos)
        partitions = list(struct.unpack_from(f">{max(count, 0)}i", raw, pos + 4))
        pos += 4 + 4 * max(count, 0)
        pairs.append((topic, partitions))
    return pairs


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    """Each target: the measured figure and whether it was met."""
    out: dict[str, Any] = {}
    if "throughput" in results:
        t = results["throughput"]
        rate = t["worker"]["events_per_second"]
        floor = t.get("framework_floor", {}).get("events_per_second")
        out["events_per_second"] = {
            "measured": rate,
            "target": TARGETS["events_per_second"],
            "met": bool(rate and rate >= TARGETS["events_per_second"]),
            # Could any worker built on Faust reach it here? Not if agents doing nothing cannot.
            "framework_floor": floor,
            "within_the_floor": None if floor is None else floor >= TARGETS["events_per_second"],
        }
        ratio = t["ratio_to_ceiling"]
        out["ratio_to_ceiling"] = {
            "measured": ratio,
            "target": TARGETS["ratio_to_ceiling"],
            "met": bool(ratio and ratio >= TARGETS["ratio_to_ceiling"]),
        }
    if "p99_seconds" in results.get("latency", {}):
        p99 = results["latency"]["p99_seconds"]
        out["p99_seconds"] = {
            "measured": p99,
            "target": TARGETS["p99_seconds"],
            "met": p99 is not None and p99 <= TARGETS["p99_seconds"],
        }
    if "peak_rss_bytes" in results.get("memory_at_scale", {}):
        rss = results["memory_at_scale"]["peak_rss_bytes"]
        out["peak_rss_bytes"] = {
            "measured": rss,
            "target": TARGETS["peak_rss_bytes"],
            "met": rss is not None and rss <= TARGETS["peak_rss_bytes"],
        }
    return out  # fmt: skip


def error_summary(text: str) -> str:
    """The lines that say what failed (``...Error: ...``), never a traceback: results files are
    committed, and frames would carry this machine's paths."""
    reasons = [line.strip() for line in text.splitlines() if _REASON.match(line.strip())]
    kept = list(dict.fromkeys(reasons))[:5] or [text.splitlines()[0][:300] if text else ""]
    return "\n".join(line[:500] for line in kept)


_REASON = re.compile(r"^([\w.]+(Error|Exception)|RuntimeError|[\w.]+Error\b)[:(]")


def _attempt(measure: Any, *args: Any) -> dict[str, Any]:
    """One measurement; a failure (a worker crash) is recorded, and the others still run."""
    try:
        result: dict[str, Any] = measure(*args)
    except Exception as exc:
        log.exception("%s failed", getattr(measure, "__name__", measure))
        reason = error_summary(f"{type(exc).__name__}: {exc}")
        return {"error": reason, "load_average": load_average()}
    return result


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _ratio(rate: float | None, reference: float | None) -> float | None:
    return round(rate / reference, 3) if rate and reference else None
