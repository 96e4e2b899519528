"""``/metrics`` behind the scrape token: Prometheus' bearer token or an admin of every agency."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from api import ApiSettings, create_app
from api.settings import MetricsSection
from tests.api.conftest import Headers

AsFn = Callable[[str, str], Headers]
SCRAPE_TOKEN = "scrape-token-0123456789abcdef0123456789"


@pytest.fixture
def guarded(settings: ApiSettings) -> Iterator[TestClient]:
    metrics = MetricsSection(token=SecretStr(SCRAPE_TOKEN))
    api = settings.api.model_copy(update={"metrics": metrics})
    app = create_app(settings.model_copy(update={"api": api}), registry=CollectorRegistry())
    with TestClient(app) as test_client:
        yield test_client


def test_without_a_token_configured_metrics_are_open(client: TestClient) -> None:
    response = client.get("/metrics")

    assert response.status_code == 200
    assert "fenghuo_api_requests_total" in response.text


def test_the_scrape_token_reads_the_metrics(guarded: TestClient) -> None:
    response = guarded.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})

    assert response.status_code == 200
    assert "fenghuo_alerts_open_by_receiver" in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": f"Bearer {SCRAPE_TOKEN}x"},
        {"Authorization": f"Basic {SCRAPE_TOKEN}"},
        {"X-API-Key": "fh_0123456789abcdef_" + "A" * 43},
    ],
    ids=["none", "wrong-token", "wrong-scheme", "unknown-key"],
)
def test_a_scrape_without_valid_credentials_is_401(
    guarded: TestClient, headers: dict[str, str]
) -> None:
    response = guarded.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert "fenghuo_" not in response.text


def test_an_admin_of_every_agency_reads_metrics_with_a_jwt(guarded: TestClient, as_: AsFn) -> None:
    assert guarded.get("/metrics", headers=as_("admin", "*")).status_code == 200


def test_an_admin_api_key_reads_metrics(guarded: TestClient, api_key: Callable[..., str]) -> None:
    response = guarded.get("/metrics", headers={"X-API-Key": api_key("admin", "*")})

    assert response.status_code == 200


@pytest.mark.parametrize(("role", "agency"), [("regulator", "eic"), ("admin", "eic")])
def test_other_callers_are_403(guarded: TestClient, as_: AsFn, role: str, agency: str) -> None:
    response = guarded.get("/metrics", headers=as_(role, agency))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_stays_open(guarded: TestClient, path: str) -> None:
    assert guarded.get(path).status_code == 200
