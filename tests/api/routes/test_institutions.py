"""``GET /v1/institutions/{id}/risk``: open alerts by category, top score, trend, in scope."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import Headers, Loaded

AsFn = Callable[[str, str], Headers]
UNTIL = "2026-11-21T00:00:00Z"


def test_risk_profile_counts_open_alerts_by_category(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    response = client.get(
        f"/v1/institutions/FJ-MC-0007/risk?days=3&until={UNTIL}", headers=as_("regulator", "eic")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["open_alerts"] == 2
    assert body["max_score"] == 0.85
    assert body["max_severity"] == "high"
    assert {c["category"]: c["open_alerts"] for c in body["by_category"]} == {
        "usurious_rate": 1,
        "borrower_concentration": 1,
    }
    assert [(p["start"][:10], p["alerts"]) for p in body["trend"]] == [
        ("2026-11-19", 0),
        ("2026-11-20", 2),
        ("2026-11-21", 0),
    ]


def test_resolved_alerts_leave_the_open_count(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    headers = as_("officer", "eic")
    client.post(
        f"/v1/alerts/{loaded.ids['usury']}/actions", json={"action": "resolve"}, headers=headers
    )
    body = client.get(f"/v1/institutions/FJ-MC-0007/risk?until={UNTIL}", headers=headers).json()
    assert body["open_alerts"] == 1


def test_institution_of_another_agency_is_404_like_an_unknown_one(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    headers = as_("regulator", "eic")
    foreign = client.get("/v1/institutions/FJ-TV-0001/risk", headers=headers)
    unknown = client.get("/v1/institutions/FJ-XX-9999/risk", headers=headers)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["detail"] == unknown.json()["detail"]
