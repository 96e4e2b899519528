"""``/v1/alerts``: scoped, filtered, cursor-paged lists, CSV export and one alert in full,
on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alerts import AlertPipeline
from models import Category, EntityType
from tests.api.conftest import Headers, Loaded, make_finding, postgres_schema_url, sqlite_copy


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(
    request: pytest.FixtureRequest, migrated_sqlite: Path, tmp_path: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_copy(migrated_sqlite, tmp_path)
    else:
        yield from postgres_schema_url(request.getfixturevalue("postgres_url"))


AsFn = Callable[[str, str], Headers]


def names(loaded: Loaded, body: dict[str, Any]) -> set[str]:
    by_id = {v: k for k, v in loaded.ids.items()}
    return {by_id[item["alert_id"]] for item in body["items"]}


def usury_loans(
    pipeline: AlertPipeline, count: int, *, start: float = 10, prefix: str = "L-"
) -> list[str]:
    found = [
        make_finding(
            Category.USURIOUS_RATE,
            entity_id=f"{prefix}{index:04d}",
            institution_id="FJ-MC-0100",
            institution_type="microcredit",
            minutes=start + index,
        )
        for index in range(count)
    ]
    return [change.alert.alert_id for change in pipeline.handle_batch(found)]


def test_caller_sees_only_alerts_routed_to_its_agency(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    response = client.get("/v1/alerts", headers=as_("regulator", "eic"))
    assert response.status_code == 200
    assert names(loaded, response.json()) == {"usury", "concentration"}


def test_admin_of_every_agency_sees_every_alert(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    response = client.get("/v1/alerts", headers=as_("admin", "*"))
    assert names(loaded, response.json()) == set(loaded.ids)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=wash_trade", {"wash"}),
        ("severity=high,critical", {"concentration", "cluster"}),
        ("severity=high&severity=critical", {"concentration", "cluster"}),
        ("institution_type=local_bank", {"bank"}),
        ("region_code=350100", {"wash", "cluster"}),
        ("route=pboc.fuzhou", {"cluster"}),
        ("institution_id=FJ-MC-0007", {"usury", "concentration"}),
        ("q=lb-00", {"bank"}),
        ("feed=trades", {"wash"}),
        ("status=open", {"usury", "concentration", "wash", "bank", "cluster"}),
        ("status=resolved", set()),
        ("since=2026-11-20T08:02:00Z&until=2026-11-20T08:04:00Z", {"concentration", "wash"}),
        ("sort=first_seen&since=2026-11-20T16:04:00%2B08:00", {"bank", "cluster"}),
    ],
)
def test_filters_narrow_the_list(
    client: TestClient, loaded: Loaded, as_: AsFn, query: str, expected: set[str]
) -> None:
    response = client.get(f"/v1/alerts?{query}", headers=as_("admin", "*"))
    assert response.status_code == 200, response.text
    assert names(loaded, response.json()) == expected


def test_route_filter_never_widens_the_callers_scope(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    response = client.get("/v1/alerts?route=office.capital_markets", headers=as_("officer", "eic"))
    assert response.json()["items"] == []


def test_free_text_with_sql_is_only_text(client: TestClient, loaded: Loaded, as_: AsFn) -> None:
    response = client.get("/v1/alerts", params={"q": "' OR '1'='1' --"}, headers=as_("admin", "*"))
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_cursor_walks_every_alert_once_newest_first(
    client: TestClient, pipeline: AlertPipeline, as_: AsFn
) -> None:
    ids = usury_loans(pipeline, 23)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 5, "institution_id": "FJ-MC-0100"} | (
            {"cursor": cursor} if cursor else {}
        )
        body = client.get("/v1/alerts", params=params, headers=as_("regulator", "eic")).json()
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [item["alert_id"] for item in seen] == list(reversed(ids))


def test_pages_stay_stable_while_alerts_arrive(
    client: TestClient, pipeline: AlertPipeline, as_: AsFn
) -> None:
    before = usury_loans(pipeline, 10)
    headers = as_("regulator", "eic")
    query = {"limit": 4, "institution_id": "FJ-MC-0100"}
    first = client.get("/v1/alerts", params=query, headers=headers).json()
    usury_loans(pipeline, 5, start=100, prefix="N-")  # new alerts arrive between pages
    rest: list[str] = []
    cursor = first["next_cursor"]
    while cursor:
        body = client.get("/v1/alerts", params=query | {"cursor": cursor}, headers=headers).json()
        rest.extend(item["alert_id"] for item in body["items"])
        cursor = body["next_cursor"]
    shown = [item["alert_id"] for item in first["items"]] + rest
    assert shown == list(reversed(before))


def test_csv_export_has_the_same_rows_as_the_query(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    response = client.get("/v1/alerts.csv?severity=high,critical", headers=as_("admin", "*"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["alert_id"] for r in rows} == {loaded.ids["concentration"], loaded.ids["cluster"]}


def test_accept_text_csv_exports_the_list_within_scope(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    headers = as_("regulator", "eic") | {"Accept": "text/csv"}
    response = client.get("/v1/alerts", headers=headers)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["alert_id"] for r in rows} == {loaded.ids["usury"], loaded.ids["concentration"]}


def test_csv_cells_that_look_like_formulas_are_defused(
    client: TestClient, pipeline: AlertPipeline, as_: AsFn
) -> None:
    pipeline.handle(
        make_finding(
            Category.USURIOUS_RATE,
            entity_id='=HYPERLINK("http://x")',
            entity_type=EntityType.LOAN,
            institution_id="FJ-MC-0007",
            institution_type="microcredit",
        )
    )
    response = client.get("/v1/alerts.csv", headers=as_("regulator", "eic"))
    (row,) = csv.DictReader(io.StringIO(response.text))
    assert row["entity_id"].startswith("'=")


def test_alert_detail_has_evidence_explanation_events_and_audit(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    response = client.get(f"/v1/alerts/{loaded.ids['usury']}", headers=as_("regulator", "eic"))
    assert response.status_code == 200
    body = response.json()
    assert body["evidence"] == {"observed": 0.6, "limit": 0.5}
    assert body["explanation"] == [{"feature": "rate", "contribution": 0.4}]
    assert len(body["event_ids"]) == 1
    assert [(h["action"], h["actor"]) for h in body["history"]] == [("opened", "fenghuo")]


def test_foreign_alert_reads_exactly_like_a_missing_one(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    headers = as_("regulator", "eic")
    foreign = client.get(f"/v1/alerts/{loaded.ids['wash']}", headers=headers)
    missing = client.get("/v1/alerts/al-00000000000000000000000000000000", headers=headers)
    assert foreign.status_code == missing.status_code == 404
    strip = lambda body: {k: v for k, v in body.items() if k != "instance"}  # noqa: E731
    assert strip(foreign.json()) == strip(missing.json())
