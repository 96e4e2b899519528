"""RFC 9457 problem documents for every error the API returns, all made here.

Handlers are installed by ``install(app)``: validation errors, HTTP errors (404 of an unknown
path, 405, …), the ``alerts`` domain errors, ``ApiProblem`` raised by the API itself, and any
other exception as a 500 whose body says nothing about the code (the trace goes to the log).
Messages never echo stored data: a foreign alert reads exactly like a missing one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from alerts import (
    AlertNotFound,
    AlertsError,
    InvalidCursor,
    InvalidSilence,
    InvalidTransition,
    SilenceNotFound,
    StaleAlert,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://fenghuo.invalid/problems/"


class ApiProblem(Exception):
    """An error the API reports as a problem document (status, short title, detail)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[Mapping[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.headers = dict(headers or {})
        self.errors = list(errors or [])


def not_found(what: str = "alert") -> ApiProblem:
    """The same 404 for a missing and a foreign resource (no hint that it exists)."""
    return ApiProblem(404, f"no {what} with this id is visible to you", kind="not-found")


def problem_body(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    instance: str | None = None,
    errors: Sequence[Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    slug = kind or title.lower().replace(" ", "-").replace("'", "")
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, str]] | None = None,
) -> JSONResponse:
    body = problem_body(status, detail, kind=kind, instance=instance, errors=errors)
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


def _location(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Where and what, never the rejected input itself (it may be huge or hostile)."""
    return [
        {"location": _location(e.get("loc", ())), "message": str(e.get("msg", ""))}
        for e in exc.errors()
    ]


#: Domain errors of ``alerts`` and the status each becomes.
DOMAIN_STATUS: dict[type[AlertsError], tuple[int, str]] = {
    AlertNotFound: (404, "not-found"),
    SilenceNotFound: (404, "not-found"),
    InvalidCursor: (400, "invalid-cursor"),
    InvalidSilence: (422, "invalid-silence"),
    InvalidTransition: (409, "invalid-transition"),
    StaleAlert: (409, "conflict"),
}


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            kind=exc.kind,
            instance=request.url.path,
            headers=exc.headers,
            errors=exc.errors,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors[:5])
        return problem_response(
            422, detail, kind="invalid-request", instance=request.url.path, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404:
            detail = "no such resource"
        return problem_response(
            exc.status_code, detail, instance=request.url.path, headers=exc.headers
        )

    @app.exception_handler(AlertsError)
    async def _domain(request: Request, exc: AlertsError) -> JSONResponse:
        for kind, (status, slug) in DOMAIN_STATUS.items():
            if isinstance(exc, kind):
                detail = "no resource with this id is visible to you" if status == 404 else str(exc)
                return problem_response(status, detail, kind=slug, instance=request.url.path)
        return await _unhandled(request, exc)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            500, "the server failed to handle this request", instance=request.url.path
        )
