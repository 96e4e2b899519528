"""API keys: a random secret shown once, stored only as its SHA-256 digest.

A key reads ``fh_<key_id>_<secret>``. The ``key_id`` finds the row (and names the key in
logs and in ``fenghuo keys revoke``); the secret is 32 random bytes, so a plain SHA-256
digest is enough (no password stretching needed) and checking it costs microseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Index, String, Table, insert, select, update
from sqlalchemy.orm import Session

from alerts.alert import utc
from alerts.errors import AlertsError
from alerts.store.tables import ID, UTCDateTime, metadata

PREFIX = "fh_"
_TOKEN = re.compile(r"^fh_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
#: ``last_used_at`` is written at most this often per key (not on every request).
TOUCH_EVERY = timedelta(minutes=1)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(ID), primary_key=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("role", String(20), nullable=False),
    Column("agency", String(64), nullable=False),
    Column("label", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    Index("ix_api_keys_created_at", "created_at"),
)


class ApiKeyNotFound(AlertsError, LookupError):
    """No API key has the given id."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    role: str
    agency: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key and its token; the token exists only here, never in the store."""

    key: ApiKey
    token: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


def _key(row: object) -> ApiKey:
    m = row._mapping  # type: ignore[attr-defined]
    return ApiKey(
        key_id=m["key_id"],
        role=m["role"],
        agency=m["agency"],
        label=m["label"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
        last_used_at=m["last_used_at"],
    )


class ApiKeys:
    """Issue, check, list and revoke API keys in the caller's session (and transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, *, role: str, agency: str, label: str, now: datetime) -> IssuedKey:
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        key = ApiKey(key_id=key_id, role=role, agency=agency, label=label, created_at=utc(now))
        self.session.execute(
            insert(api_keys).values(
                key_id=key_id,
                secret_sha256=_digest(secret),
                role=role,
                agency=agency,
                label=label,
                created_at=key.created_at,
            )
        )
        return IssuedKey(key, f"{PREFIX}{key_id}_{secret}")

    def verify(self, token: str) -> ApiKey | None:
        """The active key ``token`` names, or None (malformed, unknown, wrong secret, revoked)."""
        found = _TOKEN.match(token)
        if found is None:
            return None
        key_id, secret = found.groups()
        row = self.session.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        if row is None or not hmac.compare_digest(row.secret_sha256, _digest(secret)):
            return None
        key = _key(row)
        return key if key.active else None

    def touch(self, key: ApiKey, *, now: datetime) -> bool:
        """Record a use of ``key`` (at most once per ``TOUCH_EVERY``); True if written.

        Kept apart from ``verify`` so checking a key stays a read: on SQLite a read that turns
        into a write can fail where a write transaction from the start waits its turn.
        """
        if key.last_used_at is not None and utc(now) - key.last_used_at < TOUCH_EVERY:
            return False
        self.session.execute(
            update(api_keys).where(api_keys.c.key_id == key.key_id).values(last_used_at=utc(now))
        )
        return True

    def get(self, key_id: str) -> ApiKey:
        row = self.session.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        if row is None:
            raise ApiKeyNotFound(f"no API key {key_id!r}")
        return _key(row)

    def revoke(self, key_id: str, *, now: datetime) -> ApiKey:
        """End a key now; revoking a revoked key keeps its first revocation time."""
        key = self.get(key_id)
        if key.active:
            self.session.execute(
                update(api_keys).where(api_keys.c.key_id == key_id).values(revoked_at=utc(now))
            )
            return self.get(key_id)
        return key

    def all(self) -> list[ApiKey]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id)
        return [_key(r) for r in self.session.execute(query)]
