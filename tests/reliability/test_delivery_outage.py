"""Webhook receiver down, then up; the store locked, then free: each alert delivered once.

The delivery developer's tests cover a receiver answering 503; here nothing listens at all
(connection refused) for a while, and then the receiver comes up on the same port. Separately,
the store is locked by another connection (``BEGIN EXCLUSIVE``) during a dispatcher round.
The real pipeline fills the outbox of a SQLite store; the dispatcher runs round by round on a
hand-moved clock, so retries come due without waiting.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from alerts import AlertPipeline, AlertsConfig, StoreConfig
from alerts.notify import DeliveryConfig, OutboxDispatcher
from alerts.store.tables import outbox
from tests.alerts.conftest import ROUTING_FILE, Clock, FindingFactory, clock, finding
from tests.alerts.notify.conftest import Received, Receiver, receiver

__all__ = ["clock", "finding", "receiver"]  # fixtures used by this module

ALERTS = 20
ROUNDS_DOWN = 4
STEP = timedelta(minutes=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def delivery(url: str) -> DeliveryConfig:
    return DeliveryConfig.model_validate(
        {
            "receivers": {"eic": {"webhooks": [{"url": url + "/hook", "secret": "eic-secret"}]}},
            "retry": {"max_attempts": 10, "initial": "10s", "max": "5m", "jitter": 0.2},
            "grouping": False,
        }
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "alerts.db"


@pytest.fixture
def pipeline(db: Path, clock: Clock, finding: FindingFactory) -> Iterator[AlertPipeline]:
    """A SQLite store whose outbox holds one ``eic`` notification per opened alert."""
    config = AlertsConfig(store=StoreConfig(url=f"sqlite:///{db}"), routing_file=ROUTING_FILE)
    built = AlertPipeline.from_config(config, clock=clock)
    for n in range(ALERTS):
        built.handle(finding(entity_id=f"L-{n:04d}", event_ids=(f"e{n}",), minutes=n))
    yield built
    built.close()


def queued(pipeline: AlertPipeline) -> list[Any]:
    with pipeline.engine.connect() as conn:
        query = select(outbox).where(outbox.c.receiver == "eic").order_by(outbox.c.id)
        return list(conn.execute(query).all())


def delivered_ids(receiver: Receiver) -> list[str]:
    return [e["id"] for r in receiver.accepted() for e in r.json()["events"]]


def drain(dispatcher: OutboxDispatcher, clock: Clock, rounds: int) -> None:
    for _ in range(rounds):
        asyncio.run(dispatcher.run_once())
        clock.now += STEP


def test_a_receiver_down_then_up_on_the_same_port_gets_every_alert_once(
    pipeline: AlertPipeline, clock: Clock
) -> None:
    port = free_port()
    dispatcher = OutboxDispatcher(
        pipeline.engine, delivery(f"http://127.0.0.1:{port}"), clock=clock
    )
    drain(dispatcher, clock, ROUNDS_DOWN)
    assert [r for r in queued(pipeline) if r.delivered_at is not None] == []
    assert all(r.attempts >= 1 and r.dead_at is None for r in queued(pipeline))

    up = Receiver(url=f"http://127.0.0.1:{port}")
    server = serve(up, port)
    try:
        drain(dispatcher, clock, 6)
    finally:
        server.shutdown()
        server.server_close()

    counts = Counter(delivered_ids(up))
    assert sorted(counts) == sorted(r.payload["id"] for r in queued(pipeline))
    assert set(counts.values()) == {1}


def test_a_round_while_the_store_is_locked_delivers_nothing_and_loses_nothing(
    pipeline: AlertPipeline, clock: Clock, receiver: Receiver, db: Path
) -> None:
    dispatcher = OutboxDispatcher(pipeline.engine, delivery(receiver.url), clock=clock)
    lock = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        with pytest.raises(OperationalError, match="locked"):
            asyncio.run(dispatcher.run_once())
        assert receiver.requests == []
    finally:
        lock.execute("ROLLBACK")
        lock.close()

    drain(dispatcher, clock, 3)

    counts = Counter(delivered_ids(receiver))
    assert sorted(counts) == sorted(r.payload["id"] for r in queued(pipeline))
    assert set(counts.values()) == {1}


def serve(state: Receiver, port: int) -> ThreadingHTTPServer:
    """A receiver recording like the delivery tests' one, on a chosen port, in a thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            headers = {k.lower(): v for k, v in self.headers.items()}
            got = Received(self.path, headers, self.rfile.read(length))
            status = state.answer(got)
            got.headers["x-answer"] = str(status)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server
