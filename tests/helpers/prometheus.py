"""A real Prometheus for tests: its binary, free ports, a config it scrapes, start and stop.

Shared by the proofs that a real Prometheus scrapes real Fenghuo processes (the API's and the
worker's token-protected ``/metrics``, every Grafana panel). The binary comes from the Debian
package; missing, the test fails, never skips.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import WaitTimeout, wait_for

#: How long Prometheus (or a process it scrapes) may take to answer once started.
START_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        pytest.fail(
            "the prometheus binary is not on PATH: install the Debian package "
            "(apt-get install -y prometheus; .ci/run does it). This proof never skips."
        )
    return found


def answers(url: str) -> bool:
    """``url`` answers 200 now (no retry: call it from ``wait_for``)."""
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 20 s: every process a test started ends with it."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def tail(path: Path, chars: int = 1500) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def write_config(tmp: Path, config: dict[str, Any]) -> Path:
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def prometheus_command(config: Path, tmp: Path, port: int) -> list[str]:
    """The command line of a Prometheus on 127.0.0.1:``port`` keeping its data under ``tmp``."""
    return [
        prometheus_binary(),
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]


@dataclass
class Prometheus:
    """A running Prometheus: its URL and the API calls the proofs make."""

    url: str
    log: Path

    def targets(self) -> dict[str, dict[str, Any]]:
        """Active targets by job (one target per job in these tests)."""
        body = httpx.get(f"{self.url}/api/v1/targets", timeout=5).json()
        return {t["labels"]["job"]: t for t in body["data"]["activeTargets"]}

    def health(self, job: str) -> str | None:
        """The job's target health; None until Prometheus has discovered the target."""
        return self.targets().get(job, {}).get("health")

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5)
        answer.raise_for_status()
        body = answer.json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def wait_health(self, job: str, health: str, timeout: float = 30.0) -> dict[str, Any]:
        """The job's target once its health is ``health`` (``up``, ``down``); else fail."""
        try:
            wait_for(lambda: self.health(job) == health, timeout, interval=0.5)
        except WaitTimeout:
            pytest.fail(f"{job} not {health}: {self.targets()}\n{tail(self.log)}")
        return self.targets()[job]


def wait_until_answers(url: str, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    """Wait until ``url`` answers; fail with the log's tail if it does not, or ``process`` exits."""
    try:
        wait_for(lambda: answers(url) or process.poll() is not None, START_SECONDS, interval=0.2)
    except WaitTimeout:
        pytest.fail(f"{what} did not answer {url} in {START_SECONDS} s\n{tail(log)}")
    if process.poll() is not None:
        pytest.fail(f"{what} exited at start\n{tail(log)}")


@contextmanager
def running_prometheus(config: Path, tmp: Path) -> Iterator[Prometheus]:
    """Prometheus with ``config``, ready (``/-/ready``) on a free port, stopped on exit."""
    port = free_port()
    log = tmp / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            prometheus_command(config, tmp, port), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        prometheus = Prometheus(f"http://127.0.0.1:{port}", log)
        wait_until_answers(f"{prometheus.url}/-/ready", process, log, "prometheus")
        yield prometheus
    finally:
        stop(process)
