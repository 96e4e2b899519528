"""Real local receivers for the delivery tests: an HTTP server that fails the first N requests,
and stores with queued deliveries made by the real pipeline."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from alerts import AlertPipeline, AlertsConfig
from tests.alerts.conftest import Clock


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the server got, and how it answers: ``fail_first`` requests get ``fail_status``."""

    url: str = ""
    fail_first: int = 0
    fail_status: int = 503
    #: Only requests to paths starting with this fail (None: all of them).
    fail_path: str | None = None
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Received) -> int:
        with self.lock:
            self.requests.append(request)
            failing = self.fail_path is None or request.path.startswith(self.fail_path)
            if failing and self.fail_first > 0:
                self.fail_first -= 1
                return self.fail_status
            return 200

    def accepted(self) -> list[Received]:
        """Requests answered 2xx (the ones after the failures)."""
        return [r for r in self.requests if r.headers.get("x-answer") == "200"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP server on a free local port, recording every POST."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            got = Received(
                self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
            )
            status = state.answer(got)
            got.headers["x-answer"] = str(status)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def store_pipeline(config: AlertsConfig, clock: Clock) -> Iterator[AlertPipeline]:
    """The real pipeline on the parametrised store (SQLite file or PostgreSQL schema)."""
    built = AlertPipeline.from_config(config, clock=clock)
    yield built
    built.close()
