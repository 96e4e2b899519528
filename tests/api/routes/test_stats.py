"""``GET /v1/stats``: counts per bucket and group, within the caller's scope (SQLite and
PostgreSQL, whose bucket arithmetic differs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Headers, Loaded, postgres_schema_url, sqlite_copy

AsFn = Callable[[str, str], Headers]
WINDOW = "since=2026-11-20T00:00:00Z&until=2026-11-21T00:00:00Z"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(
    request: pytest.FixtureRequest, migrated_sqlite: Path, tmp_path: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_copy(migrated_sqlite, tmp_path)
    else:
        yield from postgres_schema_url(request.getfixturevalue("postgres_url"))


def test_counts_by_severity_per_day(client: TestClient, loaded: Loaded, as_: AsFn) -> None:
    response = client.get(f"/v1/stats?group_by=severity&{WINDOW}", headers=as_("admin", "*"))
    assert response.status_code == 200, response.text
    body = response.json()
    rows = {(r["start"][:19], r["key"]): r["alerts"] for r in body["rows"]}
    assert rows == {
        ("2026-11-20T00:00:00", "critical"): 1,
        ("2026-11-20T00:00:00", "high"): 1,
        ("2026-11-20T00:00:00", "medium"): 3,
    }
    assert body["total"] == 5


def test_hourly_buckets_by_region(client: TestClient, loaded: Loaded, as_: AsFn) -> None:
    body = client.get(
        f"/v1/stats?group_by=region_code&bucket=hour&{WINDOW}", headers=as_("admin", "*")
    ).json()
    rows = {(r["start"][11:16], r["key"]): r["alerts"] for r in body["rows"]}
    assert rows == {("08:00", "350100"): 2, ("08:00", "350200"): 1, ("08:00", "350500"): 2}


def test_stats_count_only_the_callers_alerts(client: TestClient, loaded: Loaded, as_: AsFn) -> None:
    body = client.get(f"/v1/stats?{WINDOW}", headers=as_("regulator", "regulator.banking")).json()
    assert [(r["key"], r["alerts"]) for r in body["rows"]] == [("delinquency_spike", 1)]


def test_too_many_buckets_is_refused(client: TestClient, as_: AsFn) -> None:
    response = client.get(
        "/v1/stats?bucket=hour&since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z",
        headers=as_("admin", "*"),
    )
    assert response.status_code == 422
    assert "buckets" in response.json()["detail"]
