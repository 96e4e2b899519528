"""``fenghuo keys``: create (shown once), list and revoke API keys; the key works on the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text

from alerts import StoreConfig, make_engine
from fenghuo.commands.keys import keys


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{(tmp_path / 'keys.db').as_posix()}"


def run(*args: str) -> str:
    result = CliRunner().invoke(keys, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_create_prints_the_key_once_and_stores_only_its_digest(store: str) -> None:
    out = run("create", "--role", "officer", "--agency", "eic", "--label", "lin", "--store", store)
    token = next(line for line in out.splitlines() if line.startswith("fh_"))
    engine = make_engine(StoreConfig(url=store))
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT * FROM api_keys")).mappings().one()
    engine.dispose()
    secret = token.split("_", 2)[2]  # fh_<key id>_<secret>; the secret may hold "_" itself
    assert secret and secret not in str(dict(stored))
    assert (stored["role"], stored["agency"], stored["label"]) == ("officer", "eic", "lin")


@pytest.mark.parametrize(
    ("role", "agency", "message"),
    [("officer", "*", "admin role only"), ("regulator", "nasa", "unknown agency")],
)
def test_create_refuses_grants_outside_the_model(
    store: str, role: str, agency: str, message: str
) -> None:
    result = CliRunner().invoke(
        keys, ["create", "--role", role, "--agency", agency, "--store", store]
    )
    assert result.exit_code != 0
    assert message in result.output


def test_list_and_revoke(store: str) -> None:
    out = run("create", "--role", "regulator", "--agency", "coordination", "--store", store)
    key_id = out.split()[2]
    assert run("list", "--store", store).split("\t")[:3] == [key_id, "regulator", "coordination"]
    assert f"revoked {key_id}" in run("revoke", key_id, "--store", store)
    listed = run("list", "--store", store).strip().split("\t")
    assert listed[-1] != "-"


def test_revoking_an_unknown_key_fails(store: str) -> None:
    result = CliRunner().invoke(keys, ["revoke", "0123456789abcdef", "--store", store])
    assert result.exit_code == 1
    assert "no API key" in result.output


def test_a_created_key_opens_the_api(client: TestClient, store_url: str) -> None:
    out = run("create", "--role", "regulator", "--agency", "eic", "--store", store_url)
    token = next(line for line in out.splitlines() if line.startswith("fh_"))
    assert client.get("/v1/alerts", headers={"X-API-Key": token}).status_code == 200
