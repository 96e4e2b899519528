"""``create_app(settings)``: the regulator alert API, built fresh for each process or test.

The lifespan opens (and migrates) the store engine and disposes it at shutdown; the routing
tree, rate limiter and metrics registry are built here and hung on ``app.state``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from alerts import AlertStoreCollector, RoutingTree, make_engine, migrate, writer
from api.limits import RequestLimits
from api.metrics import ApiMetrics, MetricsMiddleware
from api.problems import install
from api.ratelimit import RateLimiter
from api.routes import admin_rules, alerts, cases, health, institutions, live, silences, stats
from api.scrape import ScrapeGuard
from api.settings import ApiSettings, resolve

log = logging.getLogger(__name__)

DESCRIPTION = """Fenghuo (烽火) alerts for regulators: query and work risk alerts of Fujian's
local financial sector, live. Authenticate with a bearer JWT (HS256: `sub`, `role`, `agency`,
`exp`) or an API key (`X-API-Key: fh_…`). Every answer is limited to the alerts routed to the
caller's agency. Errors are RFC 9457 problem documents (`application/problem+json`)."""


class _Asgi:
    """Wraps an ASGI callable so Starlette's ``Route`` serves it as an app, not an endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def create_app(
    settings: ApiSettings | None = None, *, registry: CollectorRegistry | None = None
) -> FastAPI:
    settings = settings or ApiSettings()
    registry = registry or CollectorRegistry()
    routing = RoutingTree.from_file(resolve(settings.alerts.routing_file))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.alerts.store)
        if settings.alerts.store.migrate:
            migrate(engine)
        app.state.engine = engine
        app.state.writer = writer(engine)
        store_metrics = AlertStoreCollector(engine, routing.receivers)
        registry.register(store_metrics)
        log.info("API ready: %s", settings.masked()["api"])
        try:
            yield
        finally:
            registry.unregister(store_metrics)
            engine.dispose()

    app = FastAPI(
        title="Fenghuo regulator alert API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.routing = routing
    app.state.agencies = frozenset(routing.receivers)
    limits = settings.api.limits
    app.state.limiter = RateLimiter(rate=limits.rate_per_second, burst=limits.burst)
    modules = (alerts, cases, institutions, stats, live, silences, admin_rules, health)
    routers = [m.router for m in modules]
    for router in routers:
        app.include_router(router)
    scrape = ScrapeGuard(make_asgi_app(registry=registry), token=settings.api.metrics.token)
    app.router.routes.append(Route("/metrics", _Asgi(scrape), include_in_schema=False))
    install(app)
    metrics = ApiMetrics(registry)
    metrics.touch([r.path for router in routers for r in router.routes if isinstance(r, APIRoute)])
    app.add_middleware(
        RequestLimits, max_body_bytes=limits.max_body_bytes, max_query_bytes=limits.max_query_bytes
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
