"""Problem documents (RFC 9457) for framework errors and for failures nobody planned."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from alerts import make_engine
from api import ApiSettings, create_app
from tests.api.conftest import Headers

PROBLEM = "application/problem+json"


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["instance"] == "/v1/nothing-here"


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.delete("/v1/alerts")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


def test_store_failure_is_a_500_problem_without_internals(
    settings: ApiSettings, as_: Callable[[str, str], Headers]
) -> None:
    app = create_app(settings, registry=CollectorRegistry())
    with TestClient(app, raise_server_exceptions=False) as client:
        engine = make_engine(settings.alerts.store)
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE alerts RENAME TO alerts_gone"))
        engine.dispose()
        response = client.get("/v1/alerts", headers=as_("admin", "*"))
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "the server failed to handle this request"
    assert "Traceback" not in response.text
    assert "alerts" not in response.json()["detail"]
