"""``/v1/silences``: create, list and expire, for admins of every agency only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Headers

AsFn = Callable[[str, str], Headers]
SILENCE = {
    "matchers": ['category="usurious_rate"', 'institution_id="FJ-MC-0007"'],
    "ends_at": "2099-01-01T00:00:00Z",
    "comment": "on-site inspection under way",
}


def test_admin_creates_lists_and_expires_a_silence(client: TestClient, as_: AsFn) -> None:
    headers = as_("admin", "*")
    created = client.post("/v1/silences", json=SILENCE, headers=headers)
    assert created.status_code == 201, created.text
    silence = created.json()
    assert silence["active"] is True
    assert silence["created_by"] == "admin@*"
    listed = client.get("/v1/silences", headers=headers).json()
    assert [s["silence_id"] for s in listed] == [silence["silence_id"]]
    expired = client.post(f"/v1/silences/{silence['silence_id']}/expire", headers=headers)
    assert expired.status_code == 200
    assert (expired.json()["active"], expired.json()["expired_by"]) == (False, "admin@*")


@pytest.mark.parametrize(
    "body",
    [
        {**SILENCE, "matchers": ['colour="red"']},
        {**SILENCE, "matchers": []},
        {**SILENCE, "ends_at": "2000-01-01T00:00:00Z"},
        {**SILENCE, "ends_at": "2099-01-01T00:00:00"},
        {**SILENCE, "comment": ""},
    ],
)
def test_bad_silence_is_refused(client: TestClient, as_: AsFn, body: dict) -> None:  # type: ignore[type-arg]
    response = client.post("/v1/silences", json=body, headers=as_("admin", "*"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_expiring_an_unknown_silence_is_404(client: TestClient, as_: AsFn) -> None:
    response = client.post("/v1/silences/si-nope/expire", headers=as_("admin", "*"))
    assert response.status_code == 404


@pytest.mark.parametrize(("role", "agency"), [("officer", "eic"), ("admin", "eic")])
def test_silences_need_an_admin_of_every_agency(
    client: TestClient, as_: AsFn, role: str, agency: str
) -> None:
    response = client.post("/v1/silences", json=SILENCE, headers=as_(role, agency))
    assert response.status_code == 403
