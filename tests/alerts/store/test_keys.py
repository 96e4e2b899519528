"""API keys in the store: the secret is never stored, a revoked or forged key is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from alerts.store import ApiKeyNotFound, ApiKeys
from alerts.store.keys import api_keys

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_created_key_verifies_and_only_its_digest_is_stored(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        issued = ApiKeys(session).create(role="officer", agency="eic", label="lin", now=NOW)
    secret = issued.token.split("_", 2)[2]
    with Session(engine) as session:
        row = session.execute(select(api_keys)).mappings().one()
        assert secret not in str(dict(row))
        assert ApiKeys(session).verify(issued.token) == issued.key


@pytest.mark.parametrize("mangle", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), str.upper])
def test_forged_key_is_refused(engine: Engine, mangle: object) -> None:
    with Session(engine) as session, session.begin():
        issued = ApiKeys(session).create(role="officer", agency="eic", label="", now=NOW)
    with Session(engine) as session:
        assert ApiKeys(session).verify(mangle(issued.token)) is None  # type: ignore[operator]


def test_revoked_key_is_refused_and_keeps_its_first_revocation(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        keys = ApiKeys(session)
        issued = keys.create(role="admin", agency="*", label="", now=NOW)
        keys.revoke(issued.key.key_id, now=NOW + timedelta(hours=1))
        again = keys.revoke(issued.key.key_id, now=NOW + timedelta(hours=2))
        assert again.revoked_at == NOW + timedelta(hours=1)
        assert keys.verify(issued.token) is None


def test_use_is_recorded_at_most_once_a_minute(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        keys = ApiKeys(session)
        key = keys.create(role="regulator", agency="eic", label="", now=NOW).key
        assert keys.touch(key, now=NOW) is True
        touched = keys.get(key.key_id)
        assert keys.touch(touched, now=NOW + timedelta(seconds=30)) is False
        assert keys.touch(touched, now=NOW + timedelta(minutes=1)) is True


def test_revoking_an_unknown_key_raises(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(ApiKeyNotFound, match="no API key"):
        ApiKeys(session).revoke("nope", now=NOW)
