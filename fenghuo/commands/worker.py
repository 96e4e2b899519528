"""``fenghuo worker``: the stream worker, in this process, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import logging

import click

log = logging.getLogger(__name__)


@click.command()
@click.option(
    "--ensure-topics/--no-ensure-topics",
    default=True,
    show_default=True,
    help="Create missing topics (and grow smaller ones) before starting.",
)
def worker(ensure_topics: bool) -> None:
    """Run the Faust agents: feeds in, findings and alerts out.

    Configuration comes from deploy/config/fenghuo.toml (or FENGHUO_CONFIG) and FENGHUO_*
    environment variables; the effective configuration is logged at start with secrets masked.
    """
    import faust
    from prometheus_client import CollectorRegistry, disable_created_metrics

    from stream.admin import ensure_topics as ensure
    from stream.app import create_app
    from stream.metrics_server import MetricsServer, serve_metrics
    from stream.settings import WorkerSettings
    from stream.topics import changelog_specs, topic_specs

    settings = WorkerSettings()
    log.info("worker configuration: %s", settings.masked())
    # No ``_created`` twin per counter and histogram: half the exposition's lines, which no
    # rule or panel reads (30 ms of the worker's loop a scrape, half of it on these).
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry()
    _use_uvloop()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    app = create_app(settings, metrics_registry=registry)
    if ensure_topics:
        try:
            ensure(
                settings.kafka.bootstrap,
                [*topic_specs(settings), *changelog_specs(app)],
                replication_factor=settings.kafka.replication_factor,
                security=settings.kafka,
            )
        except Exception as error:  # kafka-python raises several unrelated types here
            raise click.ClickException(
                f"cannot prepare the topics on Kafka at {settings.kafka.bootstrap} "
                f"({type(error).__name__}: {error}); is the broker up? (`fenghuo kafka start`)"
            ) from error
    _freeze_startup_heap()
    endpoint: MetricsServer | None = None
    if settings.metrics.port:
        endpoint = serve_metrics(registry, port=settings.metrics.port, token=settings.metrics.token)
    runner = faust.Worker(
        app,
        loop=loop,
        loglevel=logging.getLevelName(logging.getLogger().level),
        override_logging=False,
        redirect_stdouts=False,
        quiet=True,
    )
    try:
        runner.execute_from_commandline()
    finally:
        app.fenghuo.alerts.close()  # type: ignore[attr-defined]
        if endpoint is not None:
            endpoint.close()
        log.info("worker stopped")


def _freeze_startup_heap() -> None:
    """Keep what start-up built (models, schemas, modules) out of every later garbage collection.

    A full collection walks every tracked object: with the start-up heap in it, each took about
    125 ms of the worker's loop (8 in a 40 s run at 300 events/s), a latency spike each time.
    Frozen, those objects are never walked again; what the stream builds later still is.
    """
    gc.collect()
    gc.freeze()


def _use_uvloop() -> None:
    """uvloop when installed: a faster event loop for the same code."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
