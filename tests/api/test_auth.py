"""Authentication: JWT bearer tokens and API keys, and every way they can be wrong."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from alerts import make_engine, writer
from alerts.store import ApiKeys
from api import ApiSettings
from tests.api.conftest import JWT_KEY

TokenFn = Callable[..., str]


def get(client: TestClient, headers: dict[str, str]) -> tuple[int, str]:
    response = client.get("/v1/alerts", headers=headers)
    return response.status_code, response.json().get("detail", "")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_valid_token_is_accepted(client: TestClient, token: TokenFn) -> None:
    assert get(client, bearer(token("regulator", "eic")))[0] == 200


@pytest.mark.parametrize(
    ("claims", "key", "detail"),
    [
        ({"exp": datetime.now(UTC) - timedelta(minutes=5)}, None, "expired"),
        ({}, "another-key-0123456789abcdef0123456789", "not valid"),
        ({"aud": "someone-else"}, None, "not valid"),
        ({"iss": "someone-else"}, None, "not valid"),
    ],
)
def test_bad_tokens_are_401(
    client: TestClient, token: TokenFn, claims: dict[str, object], key: str | None, detail: str
) -> None:
    extra = {"key": key} if key else {}
    status, message = get(client, bearer(token("regulator", "eic", **extra, **claims)))
    assert status == 401
    assert detail in message


def test_token_without_agency_claim_is_401(client: TestClient) -> None:
    body = {"sub": "x", "role": "regulator", "aud": "fenghuo-api", "iss": "fenghuo-test"}
    body["exp"] = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())  # type: ignore[assignment]
    assert get(client, bearer(jwt.encode(body, JWT_KEY, algorithm="HS256")))[0] == 401


def test_unsigned_token_is_401(client: TestClient) -> None:
    body = {"sub": "x", "role": "admin", "agency": "*", "exp": 9_999_999_999}
    assert get(client, bearer(jwt.encode(body, None, algorithm="none")))[0] == 401


@pytest.mark.parametrize(
    ("role", "agency", "detail"),
    [
        ("superuser", "eic", "unknown role"),
        ("regulator", "nasa", "unknown agency"),
        ("officer", "*", "admin role only"),
    ],
)
def test_grants_outside_the_model_are_403(
    client: TestClient, token: TokenFn, role: str, agency: str, detail: str
) -> None:
    status, message = get(client, bearer(token(role, agency)))
    assert status == 403
    assert detail in message


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic dXNlcjpwdw=="},
        {"Authorization": "Bearer"},
        {"X-API-Key": "not-a-key"},
        {"X-API-Key": "fh_0123456789abcdef_" + "a" * 43},
        {"Authorization": "Bearer fh_short"},
    ],
)
def test_bad_credentials_are_401_with_a_challenge(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.get("/v1/alerts", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("how", ["header", "bearer"])
def test_api_key_works_in_either_header(
    client: TestClient, api_key: Callable[..., str], how: str
) -> None:
    key = api_key("regulator", "eic")
    headers = {"X-API-Key": key} if how == "header" else bearer(key)
    assert get(client, headers)[0] == 200


def test_api_key_with_a_wrong_secret_is_401(
    client: TestClient, api_key: Callable[..., str]
) -> None:
    key = api_key("regulator", "eic")
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert get(client, {"X-API-Key": forged})[0] == 401


def test_revoked_api_key_is_401_at_once(
    client: TestClient, settings: ApiSettings, api_key: Callable[..., str]
) -> None:
    key = api_key("officer", "eic")
    assert get(client, {"X-API-Key": key})[0] == 200
    engine = make_engine(settings.alerts.store)
    with Session(writer(engine)) as session, session.begin():
        ApiKeys(session).revoke(key.split("_")[1], now=datetime.now(UTC))
    engine.dispose()
    assert get(client, {"X-API-Key": key})[0] == 401


def test_using_an_api_key_records_when(
    client: TestClient, settings: ApiSettings, api_key: Callable[..., str]
) -> None:
    key = api_key("officer", "eic")
    get(client, {"X-API-Key": key})
    engine = make_engine(settings.alerts.store)
    with Session(engine) as session:
        stored = ApiKeys(session).get(key.split("_")[1])
    engine.dispose()
    assert stored.last_used_at is not None
