"""The app: health, readiness, metrics by route template, OpenAPI with examples."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api import ApiSettings, create_app
from api.settings import ApiSection
from tests.api.conftest import JWT_KEY, Headers, Loaded


def test_healthz_needs_no_credentials(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "checks": {}}


def test_readyz_checks_the_store(client: TestClient) -> None:
    response = client.get("/readyz")
    assert (response.status_code, response.json()["checks"]) == (200, {"store": "ok"})


def test_readyz_is_503_when_the_broker_is_unreachable(settings: ApiSettings) -> None:
    api = settings.api.model_copy(update={"broker": "127.0.0.1:1"})
    app = create_app(settings.model_copy(update={"api": api}), registry=CollectorRegistry())
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"store": "ok", "broker": "unreachable"}


def test_metrics_label_requests_by_route_template(
    client: TestClient,
    registry: CollectorRegistry,
    loaded: Loaded,
    as_: Callable[[str, str], Headers],
) -> None:
    headers = as_("regulator", "eic")
    client.get(f"/v1/alerts/{loaded.ids['usury']}", headers=headers)
    client.get("/v1/alerts/al-missing", headers=headers)
    labels = {"route": "/v1/alerts/{alert_id}", "method": "GET"}
    ok = registry.get_sample_value("fenghuo_api_requests_total", labels | {"status": "200"})
    missing = registry.get_sample_value("fenghuo_api_requests_total", labels | {"status": "404"})
    assert (ok, missing) == (1.0, 1.0)
    exposed = client.get("/metrics").text
    assert loaded.ids["usury"] not in exposed
    assert 'fenghuo_api_request_duration_seconds_count{route="/v1/stats"} 0.0' in exposed


def test_unmatched_paths_share_one_label(client: TestClient, registry: CollectorRegistry) -> None:
    client.get("/v1/alerts-nope/1")
    client.get("/random/2")
    labels = {"route": "unmatched", "method": "GET", "status": "404"}
    assert registry.get_sample_value("fenghuo_api_requests_total", labels) == 2.0


def test_openapi_documents_security_and_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"HTTPBearer", "APIKeyHeader"} <= spec["components"]["securitySchemes"].keys()
    actions = spec["paths"]["/v1/alerts/{alert_id}/actions"]["post"]["requestBody"]
    assert "escalate" in actions["content"]["application/json"]["examples"]


def test_settings_default_to_localhost_8000() -> None:
    section = ApiSection()
    assert (section.host, section.port) == ("127.0.0.1", 8000)


def test_start_up_log_masks_the_signing_key(
    settings: ApiSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings, registry=CollectorRegistry())):
        pass
    assert "API ready" in caplog.text
    assert JWT_KEY not in caplog.text
