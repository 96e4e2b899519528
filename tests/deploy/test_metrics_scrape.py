"""A real Prometheus scrapes a real ``fenghuo api`` whose ``/metrics`` needs the scrape token,
with the shipped API job (its ``authorization`` block) pointed at a local token file; the same
target scraped without it is refused (401)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import WaitTimeout, wait_for
from tests.helpers.prometheus import (
    START_SECONDS,
    Prometheus,
    answers,
    free_port,
    running_prometheus,
    stop,
    tail,
    write_config,
)

pytestmark = pytest.mark.prometheus

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "deploy" / "prometheus" / "prometheus.yml"
TOKEN = "scrape-token-for-the-deploy-test-0123456789abcdef"
SCRAPE_SECONDS = 30.0


def scrape_config(tmp: Path, api_port: int) -> dict[str, Any]:
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
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [with_token, without],
    }


@pytest.fixture(scope="module")
def scraping(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    tmp = tmp_path_factory.mktemp("scrape")
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGHUO_")}
    env |= {
        "FENGHUO_VAR_DIR": str(tmp),
        "FENGHUO_ALERTS__STORE__URL": f"sqlite:///{tmp / 'alerts.db'}",
        "FENGHUO_API__METRICS__TOKEN": TOKEN,
    }
    log = tmp / "api.log"
    with log.open("wb") as out:
        api = subprocess.Popen(
            [sys.executable, "-m", "fenghuo", "api", "--port", str(api_port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with running_prometheus(write_config(tmp, scrape_config(tmp, api_port)), tmp) as prom:
            try:
                wait_for(lambda: answers(f"http://127.0.0.1:{api_port}/healthz"), START_SECONDS)
            except WaitTimeout:
                pytest.fail(f"the api did not start\n{tail(log)}")
            yield prom
    finally:
        stop(api)


def test_prometheus_with_the_token_file_scrapes_the_api(scraping: Prometheus) -> None:
    scraping.wait_health("fenghuo-api", "up", SCRAPE_SECONDS)


def test_a_scrape_without_the_token_is_refused(scraping: Prometheus) -> None:
    target = scraping.wait_health("fenghuo-api-without-token", "down", SCRAPE_SECONDS)

    assert "401" in target["lastError"]
