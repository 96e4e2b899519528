"""The worker's Prometheus endpoint: ``/metrics`` behind the scrape token, ``/healthz`` open.

``prometheus_client.start_http_server`` answers anyone who reaches the port, but the worker's
series name feeds, detectors and alert categories; like the API's (``api.scrape``), a scrape
must send ``Authorization: Bearer <token>`` (Prometheus: ``authorization.credentials_file``)
once ``[metrics] token`` is set. Kubernetes and Compose probe ``/healthz`` instead, which only
says the process answers. A small threaded ``wsgiref`` server on a daemon thread, so a slow
scrape never holds up the event loop; it logs no requests (a scrape every 15 s is noise) and
never the token.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from pydantic import SecretStr

__all__ = ["MetricsServer", "guarded_metrics_app", "serve_metrics"]

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

#: An ``Authorization`` header longer than this is refused unread (as the API does).
MAX_CREDENTIAL = 4096
_PLAIN = ("Content-Type", "text/plain; charset=utf-8")


def guarded_metrics_app(registry: CollectorRegistry, *, token: SecretStr | None) -> WsgiApp:
    """``/metrics`` of ``registry`` (bearer ``token`` required unless None) and ``/healthz``.

    Every other path is a 404; a refused scrape is a bare 401 with ``WWW-Authenticate: Bearer``
    that says nothing about why (missing, wrong or malformed look the same).
    """
    metrics = make_wsgi_app(registry)
    expected = token.get_secret_value().encode() if token is not None else None

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return _plain(start_response, "405 Method Not Allowed", b"method not allowed\n")
        if path == "/healthz":
            return _plain(start_response, "200 OK", b"ok\n")
        if path != "/metrics":
            return _plain(start_response, "404 Not Found", b"not found\n")
        if expected is not None and not _bearer_matches(environ, expected):
            log.debug("scrape of /metrics refused from %s", environ.get("REMOTE_ADDR", "?"))
            return _plain(
                start_response,
                "401 Unauthorized",
                b"unauthorized\n",
                ("WWW-Authenticate", 'Bearer realm="fenghuo-worker"'),
            )
        served: Iterable[bytes] = metrics(environ, start_response)
        return served

    return app


def _bearer_matches(environ: dict[str, Any], expected: bytes) -> bool:
    """``Authorization: Bearer <expected>``, compared in constant time."""
    header: str = environ.get("HTTP_AUTHORIZATION", "")
    if len(header) > MAX_CREDENTIAL:
        return False
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    # WSGI hands headers over as latin-1 text: back to the bytes the client sent.
    return hmac.compare_digest(credential.strip().encode("latin-1"), expected)


def _plain(
    start_response: StartResponse, status: str, body: bytes, *headers: tuple[str, str]
) -> list[bytes]:
    start_response(status, [_PLAIN, ("Content-Length", str(len(body))), *headers])
    return [body]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per request, so a slow scraper never blocks a probe."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: a scrape every 15 s per Prometheus is noise."""

    def log_message(self, format: str, *args: Any) -> None:
        return


class MetricsServer:
    """A running endpoint (see ``serve_metrics``); ``close`` stops it and frees the port."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 asked for any free port)."""
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_metrics(
    registry: CollectorRegistry,
    *,
    port: int,
    token: SecretStr | None,
    host: str = "0.0.0.0",
) -> MetricsServer:
    """Serve ``registry`` on ``host:port`` from a daemon thread until ``close`` (or exit)."""
    app = guarded_metrics_app(registry, token=token)
    server = make_server(
        host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="fenghuo-metrics", daemon=True)
    thread.start()
    running = MetricsServer(server, thread)
    protection = "scrape token required" if token is not None else "open: no scrape token"
    log.info("metrics on http://%s:%d/metrics (%s)", host, running.port, protection)
    return running
