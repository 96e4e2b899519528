"""``/healthz`` (the process answers) and ``/readyz`` (the store, and the broker if configured,
are reachable). No authentication: they say nothing about alerts."""

from __future__ import annotations

import socket
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from api.deps import SettingsDep
from api.schemas import Health

router = APIRouter(tags=["health"])

BROKER_TIMEOUT = 2.0


def _store_ok(request: Request) -> bool:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the reason is not the client's business
        return False
    return True


def _broker_ok(bootstrap: str) -> bool:
    """At least one bootstrap server accepts a TCP connection."""
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), BROKER_TIMEOUT):
                return True
        except (OSError, ValueError):
            continue
    return False


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
def healthz() -> Any:
    return {"status": "ok", "checks": {}}


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health, "description": "A dependency is unreachable."}},
    summary="Readiness: the alert store (and the broker, if configured) is reachable",
)
async def readyz(request: Request, settings: SettingsDep) -> Any:
    checks = {"store": "ok" if await run_in_threadpool(_store_ok, request) else "unreachable"}
    if settings.api.broker:
        ok = await run_in_threadpool(_broker_ok, settings.api.broker)
        checks["broker"] = "ok" if ok else "unreachable"
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)
