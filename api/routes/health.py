"""``/healthz`` (the process answers) and ``/readyz`` (the store, and the broker if configured,
are reachable). No authentication: they say nothing about alerts.

With ``[kafka] security_protocol`` SSL or SASL_SSL the broker check also completes a TLS
handshake against ``ssl_cafile``: a listener with a certificate the CA did not sign is not ready.
"""

from __future__ import annotations

import logging
import socket
import ssl
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from api.deps import SettingsDep
from api.schemas import Health
from api.settings import KafkaTlsSection, resolve

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

BROKER_TIMEOUT = 2.0


def _store_ok(request: Request) -> bool:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the reason is not the client's business
        return False
    return True


def broker_tls(kafka: KafkaTlsSection) -> ssl.SSLContext | None:
    """The client TLS context towards the brokers, or None when they speak plaintext."""
    if not kafka.uses_tls:
        return None
    cafile = str(resolve(kafka.ssl_cafile)) if kafka.ssl_cafile else None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    context.check_hostname = kafka.ssl_check_hostname
    if kafka.ssl_certfile is not None:
        context.load_cert_chain(
            str(resolve(kafka.ssl_certfile)),
            str(resolve(kafka.ssl_keyfile)) if kafka.ssl_keyfile else None,
            kafka.ssl_password.get_secret_value() if kafka.ssl_password else None,
        )
    return context


def _broker_ok(bootstrap: str, kafka: KafkaTlsSection | None = None) -> bool:
    """At least one bootstrap server accepts a TCP connection (and a TLS handshake if asked)."""
    try:
        context = broker_tls(kafka) if kafka is not None else None
    except (OSError, ssl.SSLError) as error:  # a missing or bad CA file: never ready
        log.warning("broker TLS settings unusable: %s", error)
        return False
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), BROKER_TIMEOUT) as sock:
                if context is not None:
                    sock.settimeout(BROKER_TIMEOUT)
                    context.wrap_socket(sock, server_hostname=host or "127.0.0.1").close()
                return True
        except (OSError, ValueError):  # ssl.SSLError is an OSError
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
        ok = await run_in_threadpool(_broker_ok, settings.api.broker, settings.kafka)
        checks["broker"] = "ok" if ok else "unreachable"
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)
