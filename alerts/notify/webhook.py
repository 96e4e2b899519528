"""Signed webhooks: a JSON POST of the alert CloudEvents, with an HMAC-SHA256 signature.

The signature covers ``<unix seconds>.<body bytes>`` with the receiver's secret and travels as
``Fenghuo-Signature: t=<unix>,v1=<hex>``; a receiver recomputes it, compares in constant time
and refuses old timestamps, so a captured request can be neither altered nor replayed later.
``Fenghuo-Idempotency-Key`` is the same on every retry of a notification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import SecretStr

from alerts.errors import AlertsError
from alerts.notify.config import Target, WebhookTarget
from alerts.notify.notification import DeliveryFailed, Notification
from alerts.notify.templates import summary

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Fenghuo-Signature"
IDEMPOTENCY_HEADER = "Fenghuo-Idempotency-Key"
#: Statuses that say "later": everything else in 4xx is the receiver refusing for good.
RETRYABLE_4XX = frozenset({408, 429})
DEFAULT_TOLERANCE_SECONDS = 300.0


class InvalidSignature(AlertsError, ValueError):
    """The request is not signed by the shared secret, or it is too old."""


def _key(secret: str | bytes | SecretStr) -> bytes:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return secret.encode() if isinstance(secret, str) else secret


def sign(secret: str | bytes | SecretStr, body: bytes, timestamp: int) -> str:
    """The ``Fenghuo-Signature`` header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(_key(secret), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(
    secret: str | bytes | SecretStr,
    header: str,
    body: bytes,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> int:
    """Check a ``Fenghuo-Signature`` header against the raw body; returns its timestamp.

    Raises ``InvalidSignature`` when the header is malformed, no ``v1`` matches (wrong secret
    or altered body) or the timestamp is more than ``tolerance`` seconds from ``now``.
    """
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError) as exc:
        raise InvalidSignature(f"no timestamp in {SIGNATURE_HEADER}") from exc
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
        raise InvalidSignature("signature does not match the body")
    age = abs((time.time() if now is None else now) - timestamp)
    if age > tolerance:
        raise InvalidSignature(
            f"timestamp {timestamp} is {age:.0f}s old (tolerance {tolerance:g}s)"
        )
    return timestamp


def webhook_body(notification: Notification) -> bytes:
    """The JSON document POSTed: the events and a human summary in both languages."""
    doc: dict[str, Any] = {
        "idempotency_key": notification.key,
        "receiver": notification.receiver,
        "group_key": notification.group_key,
        "summary": summary(notification),
        # 0: changes only; n: the highest reminder number of the events (each reminder event
        # says its own in ``fenghuorepeat``).
        "repeat": notification.repeat,
        "events": list(notification.events),
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookSender:
    """POSTs notifications with one shared HTTP client; ``clock`` gives the signing time."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._client = httpx.AsyncClient(follow_redirects=False)

    async def send(self, notification: Notification, target: Target) -> None:
        assert isinstance(target, WebhookTarget) and target.secret is not None
        body = webhook_body(notification)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "fenghuo-webhook/1",
            SIGNATURE_HEADER: sign(target.secret, body, int(self._clock())),
            IDEMPOTENCY_HEADER: notification.key,
        }
        try:
            response = await self._client.post(
                target.url, content=body, headers=headers, timeout=target.timeout_seconds
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"POST {target.url}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = f"POST {target.url}: HTTP {status} {response.text[:200]!r}"
        permanent = 400 <= status < 500 and status not in RETRYABLE_4XX
        raise DeliveryFailed(reason, permanent=permanent)

    async def aclose(self) -> None:
        await self._client.aclose()
