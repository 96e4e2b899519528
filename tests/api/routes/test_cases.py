"""``POST /v1/alerts/{id}/actions``: case work by officers, audited with the caller."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Headers, Loaded

AsFn = Callable[[str, str], Headers]


def act(client: TestClient, alert_id: str, headers: Headers, **body: object) -> dict:  # type: ignore[type-arg]
    response = client.post(f"/v1/alerts/{alert_id}/actions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_acknowledge_is_audited_with_the_callers_identity(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    body = act(client, loaded.ids["usury"], as_("officer", "eic"), action="acknowledge")
    assert body["alert"]["status"] == "acknowledged"
    last = body["history"][-1]
    assert (last["action"], last["actor"]) == ("acknowledged", "officer@eic")


def test_api_key_caller_is_named_by_its_key_id(
    client: TestClient, loaded: Loaded, api_key: Callable[..., str]
) -> None:
    key = api_key("officer", "eic")
    body = act(client, loaded.ids["usury"], {"X-API-Key": key}, action="acknowledge")
    assert body["history"][-1]["actor"] == "key:" + key.split("_")[1]


def test_assign_comment_escalate_then_resolve(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    alert_id, headers = loaded.ids["usury"], as_("officer", "eic")
    assert (
        act(client, alert_id, headers, action="assign", assignee="lin.wei")["alert"]["assignee"]
        == "lin.wei"
    )
    commented = act(client, alert_id, headers, action="comment", comment="called the lender")
    assert commented["history"][-1]["detail"] == {"text": "called the lender"}
    escalated = act(client, alert_id, headers, action="escalate", receivers=["coordination"])
    assert escalated["alert"]["status"] == "escalated"
    assert "coordination" in escalated["alert"]["routes"]
    resolved = act(client, alert_id, headers, action="resolve", comment="rate corrected")
    assert resolved["alert"]["status"] == "resolved"
    actions = [h["action"] for h in resolved["history"]]
    assert actions == ["opened", "assigned", "commented", "escalated", "resolved"]


def test_false_positive_suppresses_and_marks_the_alert(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    body = act(client, loaded.ids["usury"], as_("admin", "*"), action="false_positive")
    assert (body["alert"]["status"], body["alert"]["false_positive"]) == ("suppressed", True)


def test_acting_on_a_resolved_alert_is_a_conflict(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    alert_id, headers = loaded.ids["usury"], as_("officer", "eic")
    act(client, alert_id, headers, action="resolve")
    response = client.post(
        f"/v1/alerts/{alert_id}/actions", json={"action": "acknowledge"}, headers=headers
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"action": "dance"}, "body.action"),
        ({"action": "comment"}, None),
        ({"action": "escalate", "receivers": ["nobody.here"]}, None),
        ({"action": "acknowledge", "extra": 1}, "body.extra"),
        ({"action": "comment", "comment": "x" * 2001}, "body.comment"),
    ],
)
def test_bad_action_is_a_problem_document(
    client: TestClient,
    loaded: Loaded,
    as_: AsFn,
    body: dict,
    location: str | None,  # type: ignore[type-arg]
) -> None:
    response = client.post(
        f"/v1/alerts/{loaded.ids['usury']}/actions", json=body, headers=as_("officer", "eic")
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422
    if location:
        assert location in [e["location"] for e in problem["errors"]]


def test_regulator_may_not_work_cases(client: TestClient, loaded: Loaded, as_: AsFn) -> None:
    response = client.post(
        f"/v1/alerts/{loaded.ids['usury']}/actions",
        json={"action": "acknowledge"},
        headers=as_("regulator", "eic"),
    )
    assert response.status_code == 403
    assert "officer" in response.json()["detail"]


def test_officer_cannot_touch_another_agencys_alert(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    response = client.post(
        f"/v1/alerts/{loaded.ids['wash']}/actions",
        json={"action": "resolve"},
        headers=as_("officer", "eic"),
    )
    assert response.status_code == 404
    detail = client.get(f"/v1/alerts/{loaded.ids['wash']}", headers=as_("admin", "*")).json()
    assert detail["status"] == "open"
