"""``fenghuo alerts``: work with the alert store (``ingest`` a backtest's alerts …)."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import click

from alerts import AlertPipeline, AlertsConfig, AlertsError, StoreConfig
from alerts.ingest import ingest as ingest_lines

#: Bad lines echoed one by one before the rest are only counted.
_SHOWN_BAD_LINES = 20


@click.group()
def alerts() -> None:
    """Work with the alert store (SQLite var/fenghuo.db by default, or --store URL)."""


@alerts.command(short_help="Load alert CloudEvents lines (e.g. a backtest's output).")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--store", "store_url", default=None, help="Store URL [default: var/fenghuo.db].")
@click.option(
    "--routing",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Routing tree [default: deploy/config/routing.yaml].",
)
@click.option(
    "--deliver/--no-deliver",
    default=False,
    show_default=True,
    help="Queue deliveries to the receivers (off: a backtest should not page anyone).",
)
def ingest(file: TextIO, store_url: str | None, routing: Path | None, deliver: bool) -> None:
    """Put FILE's alert CloudEvents (one JSON per line, '-' for stdin) through the alert
    lifecycle into the store. Ingesting the same file twice changes nothing; bad lines are
    reported and skipped."""
    defaults = AlertsConfig()
    config = AlertsConfig(
        store=StoreConfig(url=store_url) if store_url else defaults.store,
        routing_file=routing or defaults.routing_file,
        outbox=deliver,
        escalation=[],
    )
    try:
        pipeline = AlertPipeline.from_config(config)
    except AlertsError as error:
        raise click.ClickException(str(error)) from error
    try:
        report = ingest_lines(pipeline, file)
    finally:
        pipeline.close()
    for bad in report.bad[:_SHOWN_BAD_LINES]:
        click.echo(f"line {bad.line_no}: {bad.reason}", err=True)
    if len(report.bad) > _SHOWN_BAD_LINES:
        click.echo(f"… and {len(report.bad) - _SHOWN_BAD_LINES} more bad lines", err=True)
    click.echo(
        f"{report.lines} lines: {report.opened} opened, {report.updated} updated, "
        f"{report.resolved} resolved, {len(report.bad)} bad"
    )


@alerts.command(short_help="Deliver queued notifications (webhooks, e-mail, Alertmanager).")
@click.option("--store", "store_url", default=None, help="Store URL [default: settings].")
@click.option(
    "--delivery",
    "delivery_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Receivers' channels [default: deploy/config/delivery.yaml].",
)
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--requeue-dead", is_flag=True, help="Retry the rows given up on, then go on.")
def deliver(
    store_url: str | None, delivery_file: Path | None, once: bool, requeue_dead: bool
) -> None:
    """Drain the outbox: send each queued alert change to its receivers' channels, retrying
    with backoff, until Ctrl-C (or one round with --once). Several can run on one store."""
    import asyncio
    import signal
    from datetime import UTC, datetime

    from alerts import RoutingTree, make_engine, migrate
    from alerts.notify import DeliveryConfig, OutboxDispatcher
    from alerts.notify import requeue_dead as requeue
    from api import ApiSettings
    from api.settings import resolve

    settings = ApiSettings()
    store = StoreConfig(url=store_url) if store_url else settings.alerts.store
    try:
        routing = RoutingTree.from_file(resolve(settings.alerts.routing_file))
        config = DeliveryConfig.from_file(delivery_file or resolve(settings.alerts.delivery_file))
        config.check_receivers(routing.receivers)
    except AlertsError as error:
        raise click.ClickException(str(error)) from error
    engine = make_engine(store)
    if store.migrate:
        migrate(engine)
    if requeue_dead:
        click.echo(f"{requeue(engine, now=datetime.now(UTC))} dead rows re-queued")

    async def run() -> None:
        dispatcher = OutboxDispatcher(engine, config, routing=routing)
        try:
            if once:
                done = await dispatcher.run_once()
                click.echo(
                    f"{done.notifications} notifications: {done.delivered} rows delivered, "
                    f"{done.retried} to retry, {done.dead} dead"
                )
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await dispatcher.run(stop)
        finally:
            await dispatcher.aclose()

    try:
        asyncio.run(run())
    finally:
        engine.dispose()
