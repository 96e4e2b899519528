"""``/v1/admin/rules``: read, change (validated like the rules file) and roll back the rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.api.conftest import REPO, Headers

AsFn = Callable[[str, str], Headers]
RULES = "/v1/admin/rules"
LPR_31 = "version: '2026-12'\nrate_cap:\n  lpr: 0.031\n"
LPR_29 = "version: '2026-12b'\nrate_cap:\n  lpr: 0.029\n"
SHIPPED = REPO / "deploy" / "config" / "rules.yaml"


@pytest.fixture
def admin(as_: AsFn) -> Headers:
    return as_("admin", "*")


def put(client: TestClient, headers: Headers, text: str, comment: str = "test") -> Any:
    return client.put(RULES, json={"yaml": text, "comment": comment}, headers=headers)


def test_without_a_stored_set_the_rules_file_is_in_force(
    client: TestClient, admin: Headers
) -> None:
    body = client.get(RULES, headers=admin).json()

    assert (body["source"], body["version"], body["rule_set"]) == ("file", "1", None)
    assert body["yaml"] == SHIPPED.read_text(encoding="utf-8")
    assert body["summary"] == {"version": "1", "overrides": {}}  # the shipped file = defaults


def test_put_stores_and_activates_a_new_version(client: TestClient, admin: Headers) -> None:
    response = put(client, admin, LPR_31, "one-year LPR raised to 3.1 %")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] is True
    rule_set = body["rule_set"]
    assert (rule_set["version_id"], rule_set["version"]) == (1, "2026-12+store.1")
    assert rule_set["summary"]["overrides"] == {"rate_cap.lpr": 0.031}
    assert (rule_set["created_by"], rule_set["comment"]) == (
        "admin@*",
        "one-year LPR raised to 3.1 %",
    )
    in_force = client.get(RULES, headers=admin).json()
    assert (in_force["source"], in_force["version"], in_force["yaml"]) == (
        "store",
        "2026-12+store.1",
        LPR_31,
    )


def test_a_yaml_body_takes_its_comment_from_the_query(client: TestClient, admin: Headers) -> None:
    response = client.put(
        f"{RULES}?comment=LPR",
        content=LPR_31.encode(),
        headers=admin | {"Content-Type": "application/yaml"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["rule_set"]["yaml"] == LPR_31
    assert response.json()["rule_set"]["comment"] == "LPR"


def test_a_yaml_body_without_a_comment_is_refused(client: TestClient, admin: Headers) -> None:
    response = client.put(
        RULES, content=LPR_31.encode(), headers=admin | {"Content-Type": "application/yaml"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "query.comment"


def test_a_json_object_is_stored_as_yaml(client: TestClient, admin: Headers) -> None:
    rules = {"version": "2026-12", "rate_cap": {"lpr": 0.031}}

    response = client.put(RULES, json={"rules": rules, "comment": "as JSON"}, headers=admin)

    assert response.status_code == 200, response.text
    stored = response.json()["rule_set"]
    assert yaml.safe_load(stored["yaml"]) == rules
    assert stored["version"] == "2026-12+store.1"


def test_the_same_rules_again_are_a_no_op(client: TestClient, admin: Headers) -> None:
    put(client, admin, LPR_31)

    again = put(client, admin, LPR_31, "again")

    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert again.json()["rule_set"]["version_id"] == 1
    assert len(client.get(f"{RULES}/versions", headers=admin).json()["items"]) == 1


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        (
            "version: '2'\nrate_cap:\n  lpr: -1\n  multiplier: 0\n",
            [("rate_cap.lpr", 3), ("rate_cap.multiplier", 4)],
        ),
        ("version: '2'\nevergreening:\n  min_chian: 3\n", [("evergreening.min_chian", 3)]),
        ("rate_cap:\n  lpr: 0.03\n", [("version", 1)]),
        ("version: '2'\nx: &a [1]\ny: *a\n", [("(yaml)", 2)]),
    ],
)
def test_invalid_rules_are_a_problem_listing_each_key_and_line(
    client: TestClient, admin: Headers, text: str, errors: list[tuple[str, int]]
) -> None:
    response = put(client, admin, text)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/invalid-rules")
    assert [(e["key"], e["line"]) for e in problem["errors"]] == errors
    assert client.get(f"{RULES}/versions", headers=admin).json()["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"yaml": LPR_31, "rules": {"version": "2"}, "comment": "both"},
        {"comment": "neither"},
        {"yaml": LPR_31},
        {"yaml": LPR_31, "comment": ""},
        {"yaml": LPR_31, "comment": "x", "extra": 1},
    ],
)
def test_malformed_bodies_are_refused(client: TestClient, admin: Headers, body: Any) -> None:
    response = client.put(RULES, json=body, headers=admin)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_other_media_types_are_refused(client: TestClient, admin: Headers) -> None:
    response = client.put(
        RULES, content=b"lpr=0.03", headers=admin | {"Content-Type": "text/plain"}
    )

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


def test_a_body_above_the_size_limit_is_refused(client: TestClient, admin: Headers) -> None:
    huge = "version: '2'\n" + "# padding\n" * 8000

    assert put(client, admin, huge).status_code == 413


def test_rollback_activates_an_older_version_and_audits_who(
    client: TestClient, admin: Headers, api_key: Callable[..., str]
) -> None:
    put(client, admin, LPR_31)
    put(client, admin, LPR_29)
    key = api_key("admin", "*")

    back = client.post(
        f"{RULES}/versions/1/activate", json={"comment": "3.1 % stays"}, headers={"X-API-Key": key}
    )

    assert back.status_code == 200, back.text
    assert (back.json()["changed"], back.json()["rule_set"]["active"]) == (True, True)
    key_id = key.split("_")[1]
    history = back.json()["rule_set"]["history"]
    assert [(h["action"], h["actor"]) for h in history] == [
        ("activated", f"key:{key_id}"),
        ("activated", "admin@*"),
        ("created", "admin@*"),
    ]
    assert history[0]["detail"] == {"comment": "3.1 % stays", "previous": 2}
    assert client.get(RULES, headers=admin).json()["version"] == "2026-12+store.1"


def test_versions_are_paged_newest_first(client: TestClient, admin: Headers) -> None:
    for i in range(3):
        put(client, admin, f"version: 'v{i}'\n")

    first = client.get(f"{RULES}/versions?limit=2", headers=admin).json()
    rest = client.get(f"{RULES}/versions?before={first['next_before']}", headers=admin).json()

    assert [(s["version_id"], s["active"]) for s in first["items"]] == [(3, True), (2, False)]
    assert ([s["version_id"] for s in rest["items"]], rest["next_before"]) == ([1], None)


def test_one_version_shows_its_yaml_summary_and_history(client: TestClient, admin: Headers) -> None:
    put(client, admin, LPR_31)
    put(client, admin, LPR_29)

    body = client.get(f"{RULES}/versions/1", headers=admin).json()

    assert (body["yaml"], body["active"]) == (LPR_31, False)
    assert body["summary"] == {"version": "2026-12+store.1", "overrides": {"rate_cap.lpr": 0.031}}
    assert [h["action"] for h in body["history"]] == ["activated", "created"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"{RULES}/versions/9"), ("POST", f"{RULES}/versions/9/activate")],
)
def test_an_unknown_version_is_404(
    client: TestClient, admin: Headers, method: str, path: str
) -> None:
    response = client.request(method, path, json={"comment": "x"}, headers=admin)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_an_admin_of_one_agency_may_not_change_the_rules(client: TestClient, as_: AsFn) -> None:
    response = put(client, as_("admin", "eic"), LPR_31)

    assert response.status_code == 403
    assert "every agency" in response.json()["detail"]


def test_the_schema_documents_yaml_and_json_bodies_with_examples(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][RULES]["put"]
    content = operation["requestBody"]["content"]

    assert set(content) == {"application/json", "application/yaml"}
    assert all(media["examples"] for media in content.values())
