"""Who is calling: a JWT bearer token (HS256) or an API key, turned into a ``Caller``.

Roles: ``regulator`` reads, ``officer`` reads and works cases, ``admin`` also manages silences
and keys. The agency is a receiver id of the routing tree: a caller sees only the alerts
routed to it. ``*`` (every agency) is for admins only.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import jwt
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from alerts import writer
from alerts.store import ApiKey, ApiKeys
from api.problems import ApiProblem
from api.settings import AuthSection

log = logging.getLogger(__name__)

ALL_AGENCIES = "*"
API_KEY_HEADER = "X-API-Key"
#: API keys read ``fh_<key_id>_<secret>``; any other bearer token is a JWT.
KEY_PREFIX = "fh_"


class Role(StrEnum):
    REGULATOR = "regulator"
    OFFICER = "officer"
    ADMIN = "admin"


#: What each role may do beyond reading.
CASE_ROLES = frozenset({Role.OFFICER, Role.ADMIN})
ADMIN_ROLES = frozenset({Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: the identity the audit trail names, its role and agency."""

    identity: str
    role: Role
    agency: str
    #: The rate-limit bucket: one per key or per token subject.
    bucket: str

    @property
    def scope(self) -> frozenset[str] | None:
        """Receivers whose alerts this caller sees; None: all of them."""
        return None if self.agency == ALL_AGENCIES else frozenset({self.agency})

    def require(self, roles: Collection[Role], action: str) -> None:
        if self.role not in roles:
            allowed = ", ".join(sorted(roles))
            raise ApiProblem(403, f"{action} needs role {allowed}", kind="forbidden")

    def require_global(self, action: str) -> None:
        if self.agency != ALL_AGENCIES:
            raise ApiProblem(403, f"{action} needs an admin of every agency (*)", kind="forbidden")


def unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, detail, kind="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def check_grant(role: str, agency: str, agencies: Collection[str]) -> Role:
    """The role of a valid (role, agency) grant; ``ValueError`` names what is wrong."""
    try:
        granted = Role(role)
    except ValueError:
        raise ValueError(f"unknown role {role!r} (one of {', '.join(Role)})") from None
    if agency == ALL_AGENCIES:
        if granted is not Role.ADMIN:
            raise ValueError("agency '*' (every agency) is for the admin role only")
    elif agency not in agencies:
        raise ValueError(f"unknown agency {agency!r}: not a receiver of the routing tree")
    return granted


def caller_from_jwt(token: str, auth: AuthSection, agencies: Collection[str]) -> Caller:
    try:
        claims = jwt.decode(
            token,
            auth.jwt_key.get_secret_value(),
            algorithms=["HS256"],
            audience=auth.audience,
            issuer=auth.issuer,
            leeway=auth.leeway_seconds,
            options={
                "require": ["exp", "sub", "role", "agency"],
                "verify_aud": auth.audience is not None,
                "verify_iss": auth.issuer is not None,
            },
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("the bearer token has expired") from None
    except jwt.PyJWTError:
        raise unauthorized("the bearer token is not valid") from None
    subject, role, agency = claims["sub"], claims["role"], claims["agency"]
    if not all(isinstance(v, str) and 0 < len(v) <= 128 for v in (subject, role, agency)):
        raise unauthorized("the bearer token's sub, role and agency must be short strings")
    try:
        granted = check_grant(role, agency, agencies)
    except ValueError as exc:
        raise ApiProblem(403, str(exc), kind="forbidden") from None
    return Caller(identity=subject, role=granted, agency=agency, bucket=f"jwt:{subject}")


def caller_from_key(
    token: str, engine: Engine, agencies: Collection[str], *, now: datetime
) -> Caller:
    with Session(engine) as session:
        key = ApiKeys(session).verify(token)
    if key is None:
        raise unauthorized("the API key is not valid (unknown, malformed or revoked)")
    _touch(key, engine, now)
    try:
        granted = check_grant(key.role, key.agency, agencies)
    except ValueError as exc:
        raise ApiProblem(403, str(exc), kind="forbidden") from None
    return Caller(
        identity=f"key:{key.key_id}", role=granted, agency=key.agency, bucket=f"key:{key.key_id}"
    )


def _touch(key: ApiKey, engine: Engine, now: datetime) -> None:
    with Session(writer(engine)) as session, session.begin():
        ApiKeys(session).touch(key, now=now)


def credentials(authorization: str | None, api_key: str | None) -> tuple[str, str] | None:
    """(kind, token) from the headers: ``("key", …)`` or ``("jwt", …)``; None if absent."""
    if api_key:
        return ("key", api_key.strip())
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("use 'Authorization: Bearer <token>' or the X-API-Key header")
        token = token.strip()
        return ("key", token) if token.startswith(KEY_PREFIX) else ("jwt", token)
    return None
