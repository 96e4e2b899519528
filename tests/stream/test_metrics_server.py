"""The worker's metrics endpoint over real HTTP on a free port: ``/metrics`` needs the scrape
token (issue #9), ``/healthz`` stays open for the probes, and the token never reaches a log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from pydantic import SecretStr

from stream.metrics_server import MetricsServer, serve_metrics

TOKEN = "worker-scrape-token-0123456789abcdef-xyz"
SAMPLE = "fenghuo_stream_test_events_total"


def registry_with_a_sample() -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("fenghuo_stream_test_events", "Events seen (test).", registry=registry).inc(3)
    return registry


@pytest.fixture(scope="module")
def guarded() -> Iterator[str]:
    server = serve_metrics(
        registry_with_a_sample(), port=0, token=SecretStr(TOKEN), host="127.0.0.1"
    )
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.close()


@pytest.fixture(scope="module")
def open_endpoint() -> Iterator[str]:
    server = serve_metrics(registry_with_a_sample(), port=0, token=None, host="127.0.0.1")
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_right_token_gets_the_prometheus_text(guarded: str) -> None:
    answer = httpx.get(f"{guarded}/metrics", headers=bearer(TOKEN), timeout=5)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert f"{SAMPLE} 3.0" in answer.text


def test_the_bearer_scheme_is_case_insensitive(guarded: str) -> None:
    answer = httpx.get(f"{guarded}/metrics", headers={"Authorization": f"bearer {TOKEN}"})

    assert answer.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param(bearer(TOKEN[:-1] + "Q"), id="wrong-token"),
        pytest.param(bearer(TOKEN[:-1]), id="token-prefix"),
        pytest.param(bearer(TOKEN + "x"), id="token-plus-a-byte"),
        pytest.param({"Authorization": "Bearer"}, id="bare-scheme"),
        pytest.param({"Authorization": f"Basic {TOKEN}"}, id="other-scheme"),
        pytest.param({"Authorization": TOKEN}, id="no-scheme"),
        pytest.param(bearer(TOKEN + "x" * 5000), id="oversized"),
    ],
)
def test_a_scrape_without_the_right_token_is_refused(guarded: str, headers: dict[str, str]) -> None:
    answer = httpx.get(f"{guarded}/metrics", headers=headers, timeout=5)

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert SAMPLE not in answer.text
    assert answer.text == "unauthorized\n"


def test_healthz_answers_without_a_token(guarded: str) -> None:
    answer = httpx.get(f"{guarded}/healthz", timeout=5)

    assert (answer.status_code, answer.text) == (200, "ok\n")


def test_an_unknown_path_is_not_found_and_serves_no_metrics(guarded: str) -> None:
    answer = httpx.get(f"{guarded}/", headers=bearer(TOKEN), timeout=5)

    assert answer.status_code == 404
    assert SAMPLE not in answer.text


def test_only_get_and_head_are_allowed(guarded: str) -> None:
    answer = httpx.post(f"{guarded}/metrics", headers=bearer(TOKEN), timeout=5)

    assert answer.status_code == 405


def test_without_a_token_metrics_are_open(open_endpoint: str) -> None:
    answer = httpx.get(f"{open_endpoint}/metrics", timeout=5)

    assert answer.status_code == 200
    assert f"{SAMPLE} 3.0" in answer.text


def test_the_token_never_reaches_the_logs_or_stderr(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    server: MetricsServer = serve_metrics(
        registry_with_a_sample(), port=0, token=SecretStr(TOKEN), host="127.0.0.1"
    )
    try:
        url = f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{url}/metrics", headers=bearer(TOKEN), timeout=5).status_code == 200
        assert httpx.get(f"{url}/metrics", headers=bearer(TOKEN[:-1]), timeout=5).status_code == 401
    finally:
        server.close()
    captured = capfd.readouterr()

    assert "scrape token required" in caplog.text
    assert "refused" in caplog.text
    assert TOKEN[:-1] not in caplog.text + captured.out + captured.err


def test_close_frees_the_port() -> None:
    server = serve_metrics(CollectorRegistry(), port=0, token=None, host="127.0.0.1")
    port = server.port
    server.close()

    again = serve_metrics(CollectorRegistry(), port=port, token=None, host="127.0.0.1")
    try:
        assert again.port == port
    finally:
        again.close()
