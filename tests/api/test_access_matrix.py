"""Access control: role × agency × endpoint, as one table, and authentication everywhere.

Data: one alert per sector (tests/api/conftest.py); the routes follow the shipped routing
tree. No endpoint may show, count, stream or act on an alert outside the caller's agency.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Headers, Loaded
from tests.api.routes.test_live import events

AsFn = Callable[[str, str], Headers]

#: Which sector alerts each agency sees (from deploy/config/routing.yaml and domain.md).
VISIBLE: dict[str, set[str]] = {
    "eic": {"usury", "concentration"},
    "office.capital_markets": {"wash"},
    "coordination": {"concentration", "cluster"},
    "pboc.fuzhou": {"cluster"},
    "regulator.banking": {"bank"},
    "office.planning": set(),
    "*": {"usury", "concentration", "wash", "bank", "cluster"},
}
CALLERS = [
    ("regulator", "eic"),
    ("officer", "eic"),
    ("admin", "eic"),
    ("regulator", "office.capital_markets"),
    ("officer", "coordination"),
    ("regulator", "pboc.fuzhou"),
    ("officer", "regulator.banking"),
    ("admin", "office.planning"),
    ("admin", "*"),
]
WINDOW = "since=2026-11-20T00:00:00Z&until=2026-11-21T00:00:00Z"


def _expected(role: str, agency: str) -> dict[str, object]:
    """The outcome the matrix demands of each endpoint for this caller."""
    seen = VISIBLE[agency]
    may_work = role in ("officer", "admin")

    def act(name: str) -> int:
        if not may_work:
            return 403
        return 200 if name in seen else 404

    return {
        "list": seen,
        "csv": seen,
        "stream": seen,
        "stats": len(seen),
        "detail:wash": 200 if "wash" in seen else 404,
        "detail:cluster": 200 if "cluster" in seen else 404,
        "risk:FJ-TV-0001": 200 if "wash" in seen else 404,
        "risk:FJ-MC-0007": 200 if seen & {"usury", "concentration"} else 404,
        "act:usury": act("usury"),
        "act:bank": act("bank"),
        "silences": 200 if (role, agency) == ("admin", "*") else 403,
        "rules": 200 if (role, agency) == ("admin", "*") else 403,
        "rules:versions": 200 if (role, agency) == ("admin", "*") else 403,
        "rules:put": 200 if (role, agency) == ("admin", "*") else 403,
        "rules:activate": 200 if (role, agency) == ("admin", "*") else 403,
    }


def _observe(client: TestClient, loaded: Loaded, headers: Headers) -> dict[str, object]:
    name_of = {v: k for k, v in loaded.ids.items()}
    got: dict[str, object] = {}
    body = client.get("/v1/alerts", headers=headers).json()
    got["list"] = {name_of[i["alert_id"]] for i in body["items"]}
    rows = csv.DictReader(io.StringIO(client.get("/v1/alerts.csv", headers=headers).text))
    got["csv"] = {name_of[r["alert_id"]] for r in rows}
    sse = client.get("/v1/stream", headers=headers | {"Last-Event-ID": "0"}).text
    got["stream"] = {name_of[e["data"]["alert"]["alert_id"]] for e in events(sse)}
    got["stats"] = client.get(f"/v1/stats?{WINDOW}", headers=headers).json()["total"]
    for name in ("wash", "cluster"):
        got[f"detail:{name}"] = client.get(
            f"/v1/alerts/{loaded.ids[name]}", headers=headers
        ).status_code
    for institution in ("FJ-TV-0001", "FJ-MC-0007"):
        url = f"/v1/institutions/{institution}/risk"
        got[f"risk:{institution}"] = client.get(url, headers=headers).status_code
    for name in ("usury", "bank"):
        url = f"/v1/alerts/{loaded.ids[name]}/actions"
        response = client.post(url, json={"action": "comment", "comment": "seen"}, headers=headers)
        got[f"act:{name}"] = response.status_code
    got["silences"] = client.get("/v1/silences", headers=headers).status_code
    got["rules"] = client.get("/v1/admin/rules", headers=headers).status_code
    got["rules:versions"] = client.get("/v1/admin/rules/versions", headers=headers).status_code
    rules = {"yaml": "version: 'matrix'\n", "comment": "access matrix"}
    put = client.put("/v1/admin/rules", json=rules, headers=headers)
    got["rules:put"] = put.status_code
    activate = client.post(
        "/v1/admin/rules/versions/1/activate", json={"comment": "again"}, headers=headers
    )
    got["rules:activate"] = activate.status_code
    for refused in (put, activate):
        if refused.status_code == 403:
            assert refused.headers["content-type"] == "application/problem+json"
    return got


@pytest.mark.parametrize(("role", "agency"), CALLERS)
def test_access_matrix(
    client: TestClient, loaded: Loaded, as_: AsFn, role: str, agency: str
) -> None:
    assert _observe(client, loaded, as_(role, agency)) == _expected(role, agency)


def test_api_keys_get_the_same_scope_as_tokens(
    client: TestClient, loaded: Loaded, api_key: Callable[..., str]
) -> None:
    key = api_key("regulator", "office.capital_markets")
    observed = _observe(client, loaded, {"X-API-Key": key})
    assert observed == _expected("regulator", "office.capital_markets")


PUBLIC = {"/healthz", "/readyz"}


def _operations(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x-1", path))
        for path, item in spec["paths"].items()
        for method in item
        if path not in PUBLIC
    ]


def test_every_non_health_endpoint_needs_authentication(client: TestClient) -> None:
    operations = _operations(client)
    assert len(operations) >= 9
    refused = {
        (method, path): client.request(method, path, json={}).status_code
        for method, path in operations
    }
    assert set(refused.values()) == {401}, refused
