"""Issue #9: a real Prometheus scrapes a real production ``fenghuo worker`` whose ``/metrics``
needs the scrape token, with the shipped worker job (its ``authorization`` block) pointed at the
token file the worker reads too (as Compose mounts one secret into both). The same target
scraped without it is refused (401), and the probes' ``/healthz`` answers without a token."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from stream.admin import delete_topics, list_topics
from tests.helpers import unique_name, wait_for
from tests.helpers.prometheus import (
    Prometheus,
    free_port,
    running_prometheus,
    stop,
    wait_until_answers,
    write_config,
)

pytestmark = [pytest.mark.kafka, pytest.mark.prometheus]

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "deploy" / "prometheus" / "prometheus.yml"
TOKEN = "worker-scrape-token-for-the-deploy-test-0123456789"
SCRAPE_SECONDS = 30.0


@dataclass
class Scraped:
    prometheus: Prometheus
    worker: str
    log: Path


def scrape_config(token_file: Path, worker_port: int) -> dict[str, Any]:
    """The shipped worker job on a static local target, plus the same target without the token."""
    shipped = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    [job] = [j for j in shipped["scrape_configs"] if j["job_name"] == "fenghuo-worker"]
    with_token = {k: v for k, v in job.items() if k != "dns_sd_configs"}
    with_token["authorization"] = {**job["authorization"], "credentials_file": str(token_file)}
    with_token["static_configs"] = [{"targets": [f"127.0.0.1:{worker_port}"]}]
    without = copy.deepcopy(with_token)
    without["job_name"] = "fenghuo-worker-without-token"
    del without["authorization"]
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [with_token, without],
    }


@pytest.fixture(scope="module")
def scraped(kafka_broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraped]:
    tmp = tmp_path_factory.mktemp("worker-scrape")
    suffix = "-" + unique_name("wscrape")
    port = free_port()
    token_file = tmp / "metrics-token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGHUO_")}
    env |= {
        "FENGHUO_ENVIRONMENT": "production",
        "FENGHUO_KAFKA__BOOTSTRAP": kafka_broker,
        "FENGHUO_KAFKA__TOPIC_SUFFIX": suffix,
        "FENGHUO_KAFKA__APP_ID": f"fenghuo-wscrape{suffix}",
        "FENGHUO_METRICS__PORT": str(port),
        "FENGHUO_METRICS__TOKEN_FILE": str(token_file),
        "FENGHUO_VAR_DIR": str(tmp),
        "FENGHUO_DATA_DIR": str(tmp / "worker"),
        "FENGHUO_ALERTS__STORE__URL": f"sqlite:///{tmp / 'alerts.db'}",
        "FENGHUO_ML__ENABLED": "false",
    }
    log = tmp / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "fenghuo", "worker"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{url}/healthz", worker, log, "the worker")
        with running_prometheus(write_config(tmp, scrape_config(token_file, port)), tmp) as prom:
            yield Scraped(prom, url, log)
    finally:
        stop(worker)
        delete_topics(kafka_broker, [t for t in list_topics(kafka_broker) if suffix in t])


def test_prometheus_with_the_shipped_job_scrapes_the_worker(scraped: Scraped) -> None:
    scraped.prometheus.wait_health("fenghuo-worker", "up", SCRAPE_SECONDS)

    def sampled() -> list[dict[str, Any]]:
        return scraped.prometheus.query('fenghuo_stream_events_total{job="fenghuo-worker"}')

    assert wait_for(sampled, SCRAPE_SECONDS, interval=0.5)


def test_a_scrape_without_the_token_is_refused(scraped: Scraped) -> None:
    target = scraped.prometheus.wait_health("fenghuo-worker-without-token", "down", SCRAPE_SECONDS)

    assert "401" in target["lastError"]


def test_the_probe_endpoint_answers_without_a_token(scraped: Scraped) -> None:
    answer = httpx.get(f"{scraped.worker}/healthz", timeout=5)

    assert (answer.status_code, answer.text) == (200, "ok\n")


def test_the_token_never_reaches_the_worker_log(scraped: Scraped) -> None:
    scraped.prometheus.wait_health("fenghuo-worker", "up", SCRAPE_SECONDS)

    logged = scraped.log.read_text(errors="replace")
    assert "scrape token required" in logged
    assert TOKEN not in logged
