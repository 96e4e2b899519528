"""One ``fenghuo worker`` child process under test: pinned to a core, watched through its
Prometheus endpoint, its peak RSS read from ``/proc`` before it is stopped.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from benchmarks._machine import cpu_seconds, peak_rss_bytes
from stream.broker import free_ports

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
STOP_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Scrape:
    """What one scrape of the worker's metrics says."""

    at: float
    #: Messages the agents finished (every stage: feeds, re-keys, graph, findings).
    processed: float
    #: Feed messages the first stage consumed, by any outcome.
    consumed: float
    latency_buckets: dict[float, float] = field(default_factory=dict)
    #: When any stage last finished a message, by the worker's clock (0: none yet).
    last_processed: float = 0.0


def scrape(port: int) -> Scrape | None:
    """Read the worker's metrics; None while the endpoint is not up."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    processed = consumed = last = 0.0
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "fenghuo_stream_event_processing_seconds_count":
                processed += sample.value
            elif sample.name == "fenghuo_stream_events_total":
                if sample.labels.get("feed") != "findings":
                    consumed += sample.value
            elif sample.name == "fenghuo_stream_event_to_alert_seconds_bucket":
                buckets[float(sample.labels["le"])] = sample.value
            elif sample.name == "fenghuo_stream_last_processed_timestamp_seconds":
                last = max(last, sample.value)
    return Scrape(time.time(), processed, consumed, buckets, last)


@dataclass
class WorkerRun:
    """A running worker: ``start`` it, ``wait_idle`` for it, ``stop`` it (peak RSS kept)."""

    bootstrap: str
    suffix: str
    workdir: Path
    core: int | None = None
    app_id: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    peak_rss: int | None = None
    #: CPU seconds used by the worker, read when it is stopped.
    cpu: float | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.app_id = self.app_id or f"fenghuo-bench{self.suffix}"
        self.port = self.port or free_ports(1)[0]
        self.log_path = self.workdir / f"worker-{self.port}.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FENGHUO_")}
        store = self.workdir / f"alerts-{self.port}.db"
        env.update(
            {
                "FENGHUO_KAFKA__BOOTSTRAP": self.bootstrap,
                "FENGHUO_KAFKA__TOPIC_SUFFIX": self.suffix,
                "FENGHUO_KAFKA__APP_ID": self.app_id,
                "FENGHUO_METRICS__PORT": str(self.port),
                "FENGHUO_VAR_DIR": str(self.workdir),
                "FENGHUO_ALERTS__STORE__URL": f"sqlite:///{store}",
                "FENGHUO_ML__ENABLED": "true",
                **self.extra_env,
            }
        )
        return env

    def command(self) -> list[str]:
        return [sys.executable, "-m", "fenghuo", "--log-level", "INFO", "worker"]

    def start(self) -> None:
        core = self.core
        pin: Callable[[], None] | None = None
        if core is not None and 0 <= core < (os.cpu_count() or 1):

            def pin() -> None:
                os.sched_setaffinity(0, {core})

        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                self.command(),
                cwd=REPO,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=pin,
            )
        log.info("worker pid %d (core %s) metrics on :%d", self.process.pid, core, self.port)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def sample_rss(self) -> None:
        """Keep the peak RSS seen so far, so a worker that crashes still reports one."""
        if self.process is not None and self.alive():
            rss = peak_rss_bytes(self.process.pid)
            if rss is not None:
                self.peak_rss = max(rss, self.peak_rss or 0)

    def cpu_now(self) -> float | None:
        return cpu_seconds(self.process.pid) if self.process is not None else None

    def scrape(self) -> Scrape | None:
        return scrape(self.port)

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Until the worker has joined its group (its log says so) and serves metrics."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"worker exited early:\n{self.log_tail()}")
            if "worker ready" in self.log_path.read_text(errors="replace") and self.scrape():
                return
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def assignments(self) -> list[int]:
        """Partitions assigned at each rebalance, from the worker's log lines."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if "worker ready:" in line:
                words = line.split("worker ready:")[1].split()
                found.append(int(words[0]))
        return found

    def stop(self) -> None:
        """Read the peak RSS, then SIGTERM (SIGKILL after a grace period)."""
        if self.process is None:
            return
        if self.alive():
            self.sample_rss()
            self.cpu = cpu_seconds(self.process.pid)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log_tail(self, chars: int = 5000) -> str:
        """From the first error the worker logged (else the end of its log), ``chars`` long."""
        text = self.log_path.read_text(errors="replace")
        starts = [i for i in (text.find(" ERROR "), text.find(" CRITICAL ")) if i >= 0]
        begin = max(0, min(starts) - 100) if starts else max(0, len(text) - chars)
        return text[begin : begin + chars]
