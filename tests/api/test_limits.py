"""Request limits and parameter validation: every refusal is a problem document."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Headers, Loaded

AsFn = Callable[[str, str], Headers]
PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("limit=0", "query.limit"),
        ("limit=101", "query.limit"),
        ("limit=abc", "query.limit"),
        ("category=no_such_category", "query.category"),
        ("severity=urgent", "query.severity"),
        ("status=closed", "query.status"),
        ("since=2026-11-20T08:00:00", "query.since"),
        ("since=yesterday", "query.since"),
        ("region_code=35010", "query.region_code"),
        ("institution_id=FJ'%20OR%201=1--", "query.institution_id"),
        ("institution_id=" + "x" * 129, "query.institution_id"),
        ("q=" + "x" * 101, "query.q"),
        ("route=EIC;DROP", "query.route"),
        ("sort=score", "query.sort"),
        ("cursor=" + "c" * 513, "query.cursor"),
        ("category=" + ",".join(["usurious_rate"] * 21), "query.category"),
        ("colour=red", "query.colour"),
        ("since=2026-11-21T00:00:00Z&until=2026-11-20T00:00:00Z", "query.until"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(
    client: TestClient, as_: AsFn, query: str, location: str
) -> None:
    response = client.get(f"/v1/alerts?{query}", headers=as_("admin", "*"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert any(e["location"].startswith(location) for e in problem["errors"])


def test_validation_errors_never_echo_the_input(client: TestClient, as_: AsFn) -> None:
    response = client.get(
        "/v1/alerts?institution_id=<script>alert(1)</script>", headers=as_("admin", "*")
    )
    assert "<script>" not in response.text


def test_a_cursor_we_did_not_issue_is_400(client: TestClient, as_: AsFn) -> None:
    response = client.get("/v1/alerts?cursor=not-a-cursor", headers=as_("admin", "*"))
    assert response.status_code == 400
    assert response.json()["type"].endswith("invalid-cursor")


def test_bad_alert_id_in_the_path_is_422(client: TestClient, as_: AsFn) -> None:
    response = client.get("/v1/alerts/" + "a" * 65, headers=as_("admin", "*"))
    assert response.status_code == 422


def test_overlong_query_string_is_414(client: TestClient, as_: AsFn) -> None:
    response = client.get("/v1/alerts?q=" + "x" * 5000, headers=as_("admin", "*"))
    assert response.status_code == 414
    assert response.headers["content-type"] == PROBLEM


def test_body_over_the_limit_is_413(client: TestClient, loaded: Loaded, as_: AsFn) -> None:
    body = '{"action": "comment", "comment": "' + "x" * 70_000 + '"}'
    response = client.post(
        f"/v1/alerts/{loaded.ids['usury']}/actions",
        content=body,
        headers=as_("officer", "eic") | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_chunked_body_over_the_limit_is_413(client: TestClient, loaded: Loaded, as_: AsFn) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"action": "comment", "comment": "'
        for _ in range(80):
            yield b"x" * 1000
        yield b'"}'

    response = client.post(
        f"/v1/alerts/{loaded.ids['usury']}/actions",
        content=chunks(),
        headers=as_("officer", "eic") | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_malformed_json_body_is_422(client: TestClient, loaded: Loaded, as_: AsFn) -> None:
    response = client.post(
        f"/v1/alerts/{loaded.ids['usury']}/actions",
        content=b"{not json",
        headers=as_("officer", "eic") | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
