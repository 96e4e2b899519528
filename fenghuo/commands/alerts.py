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
