"""``/metrics`` behind a scrape token: its series count alerts per category, region and agency.

With ``api.metrics.token`` set, a scrape must send ``Authorization: Bearer <token>`` (what
Prometheus sends from ``authorization.credentials_file``); an admin of every agency (``*``)
may read it with a JWT or an API key too. Anything else is a 401 problem document, and an
authenticated caller of another role or agency a 403. Without a token (development only, see
``ApiSettings``) the endpoint is open. ``/healthz`` and ``/readyz`` are never guarded.
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime

from pydantic import SecretStr
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import (
    ADMIN_ROLES,
    Caller,
    caller_from_jwt,
    caller_from_key,
    credentials,
    unauthorized,
)
from api.problems import ApiProblem, problem_response
from api.settings import ApiSettings

log = logging.getLogger(__name__)

#: A credential longer than this is refused unread (as ``get_caller`` does).
MAX_CREDENTIAL = 4096


class ScrapeGuard:
    """Wraps the metrics ASGI app: only the scrape token or an admin of ``*`` gets through."""

    def __init__(self, app: ASGIApp, *, token: SecretStr | None) -> None:
        self.app = app
        self._token = token.get_secret_value().encode() if token is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._token is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            await self._authorize(request)
        except ApiProblem as problem:
            response = problem_response(
                problem.status,
                problem.detail,
                kind=problem.kind,
                instance=scope["path"],
                headers=problem.headers,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _authorize(self, request: Request) -> None:
        found = credentials(request.headers.get("authorization"), request.headers.get("x-api-key"))
        if found is None:
            raise unauthorized("scraping /metrics needs the scrape token (Authorization: Bearer)")
        kind, secret = found
        if len(secret) > MAX_CREDENTIAL:
            raise unauthorized("the credential is too long")
        assert self._token is not None
        if hmac.compare_digest(secret.encode(), self._token):
            return
        caller = await run_in_threadpool(_caller, request, kind, secret)
        caller.require(ADMIN_ROLES, "reading /metrics")
        caller.require_global("reading /metrics")


def _caller(request: Request, kind: str, secret: str) -> Caller:
    """The admin behind a JWT or API key (the store is read for a key)."""
    app = request.app
    settings: ApiSettings = app.state.settings
    if kind == "key":
        return caller_from_key(secret, app.state.engine, app.state.agencies, now=datetime.now(UTC))
    return caller_from_jwt(secret, settings.api.auth, app.state.agencies)
