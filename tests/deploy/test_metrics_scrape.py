"""A real Prometheus scrapes a real ``fenghuo api`` whose ``/metrics`` needs the scrape token,
with the shipped API job (its ``authorization`` block) pointed at a local token file; the same
target scraped without it is refused (401)."""

from __future__ import annotations

import copy
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import WaitTimeout, wait_for

pytestmark = pytest.mark.prometheus

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "deploy" / "prometheus" / "prometheus.yml"
TOKEN = "scrape-token-for-the-deploy-test-0123456789abcdef"
START_SECONDS = 60.0
SCRAPE_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        pytest.fail("the prometheus binary is not on PATH: apt-get install -y prometheus")
    return found


def scrape_config(tmp: Path, api_port: int) -> Path:
    """The shipped API job on a static local target, plus the same target without the token."""
    shipped = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    [job] = [j for j in shipped["scrape_configs"] if j["job_name"] == "fenghuo-api"]
    token_file = tmp / "metrics-token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    with_token = {k: v for k, v in job.items() if k != "dns_sd_configs"}
    with_token["authorization"] = {**job["authorization"], "credentials_file": str(token_file)}
    with_token["static_configs"] = [{"targets": [f"127.0.0.1:{api_port}"]}]
    without = copy.deepcopy(with_token)
    without["job_name"] = "fenghuo-api-without-token"
    del without["authorization"]
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [with_token, without],
    }
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@dataclass
class Scraping:
    prometheus: str
    logs: list[Path]

    def targets(self) -> dict[str, dict[str, Any]]:
        body = httpx.get(f"{self.prometheus}/api/v1/targets", timeout=5).json()
        return {t["labels"]["job"]: t for t in body["data"]["activeTargets"]}

    def health(self, job: str) -> str | None:
        """The job's target health; None until Prometheus has discovered the target."""
        return self.targets().get(job, {}).get("health")

    def tails(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-1500:] for p in self.logs)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="module")
def scraping(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraping]:
    binary = prometheus_binary()
    tmp = tmp_path_factory.mktemp("scrape")
    api_port, prom_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGHUO_")}
    env |= {
        "FENGHUO_VAR_DIR": str(tmp),
        "FENGHUO_ALERTS__STORE__URL": f"sqlite:///{tmp / 'alerts.db'}",
        "FENGHUO_API__METRICS__TOKEN": TOKEN,
    }
    logs = [tmp / "api.log", tmp / "prometheus.log"]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with logs[0].open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "fenghuo", "api", "--port", str(api_port)],
                    cwd=REPO,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        with logs[1].open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [
                        binary,
                        f"--config.file={scrape_config(tmp, api_port)}",
                        f"--storage.tsdb.path={tmp / 'tsdb'}",
                        f"--web.listen-address=127.0.0.1:{prom_port}",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        state = Scraping(f"http://127.0.0.1:{prom_port}", logs)
        try:
            wait_for(lambda: answers(f"http://127.0.0.1:{api_port}/healthz"), START_SECONDS)
            wait_for(lambda: answers(f"{state.prometheus}/-/ready"), START_SECONDS)
        except WaitTimeout:
            pytest.fail(f"api or prometheus did not start\n{state.tails()}")
        yield state
    finally:
        for process in reversed(processes):
            stop(process)


def test_prometheus_with_the_token_file_scrapes_the_api(scraping: Scraping) -> None:
    def up() -> bool:
        return scraping.health("fenghuo-api") == "up"

    try:
        wait_for(up, SCRAPE_SECONDS, interval=0.5)
    except WaitTimeout:
        pytest.fail(f"not scraped: {scraping.targets()}\n{scraping.tails()}")


def test_a_scrape_without_the_token_is_refused(scraping: Scraping) -> None:
    def refused() -> dict[str, Any] | None:
        if scraping.health("fenghuo-api-without-token") != "down":
            return None
        return scraping.targets()["fenghuo-api-without-token"]

    target = wait_for(refused, SCRAPE_SECONDS, interval=0.5)

    assert "401" in target["lastError"]
