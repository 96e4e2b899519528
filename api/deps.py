"""Annotated dependencies: handlers never open a session or read a credential themselves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from alerts import RoutingTree
from api.auth import (
    API_KEY_HEADER,
    Caller,
    caller_from_jwt,
    caller_from_key,
    credentials,
    unauthorized,
)
from api.problems import ApiProblem
from api.ratelimit import RateLimiter
from api.settings import ApiSettings

_bearer = HTTPBearer(
    auto_error=False,
    description="A JWT (HS256; claims sub, role, agency, exp) or an API key `fh_…`.",
)
_api_key = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="An API key from `fenghuo keys create`."
)


def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def get_routing(request: Request) -> RoutingTree:
    routing: RoutingTree = request.app.state.routing
    return routing


def get_session(request: Request) -> Iterator[Session]:
    """A read session on the store (the request's snapshot; nothing is written)."""
    with Session(request.app.state.engine) as session:
        yield session


def get_writer_session(request: Request) -> Iterator[Session]:
    """A session for read-then-write work; the handler wraps it in ``session.begin()``."""
    with Session(request.app.state.writer) as session:
        yield session


def get_caller(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    api_key: Annotated[str | None, Security(_api_key)],
) -> Caller:
    """Authenticate (API key or JWT), then spend one token of the caller's rate bucket."""
    settings = get_settings(request)
    authorization = request.headers.get("authorization") if bearer is None else None
    if bearer is not None:
        authorization = f"{bearer.scheme} {bearer.credentials}"
    found = credentials(authorization, api_key)
    if found is None:
        raise unauthorized("authentication required: a bearer token or an X-API-Key header")
    kind, token = found
    if len(token) > 4096:
        raise unauthorized("the credential is too long")
    agencies = request.app.state.agencies
    if kind == "key":
        now = datetime.now(UTC)
        caller = caller_from_key(token, request.app.state.engine, agencies, now=now)
    else:
        caller = caller_from_jwt(token, settings.api.auth, agencies)
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.take(caller.bucket)
    if wait > 0:
        raise ApiProblem(
            429,
            "too many requests from this caller: slow down",
            kind="rate-limited",
            headers={"Retry-After": RateLimiter.retry_after(wait)},
        )
    return caller


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
RoutingDep = Annotated[RoutingTree, Depends(get_routing)]
SessionDep = Annotated[Session, Depends(get_session)]
WriterSessionDep = Annotated[Session, Depends(get_writer_session)]
CallerDep = Annotated[Caller, Depends(get_caller)]
