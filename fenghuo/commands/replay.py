"""``fenghuo replay``: produce a history file (contracts/history-format.md) into Kafka.

A bad line (not JSON, unknown topic, breaks its contract) is reported and skipped; it never
stops the replay.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import click

from models.history import BadLine, read_history

log = logging.getLogger(__name__)
_SHOWN = 10


@click.command()
@click.argument("history", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--bootstrap",
    help="Broker HOST:PORT [default: the worker's configured bootstrap; TLS/SASL: [kafka]].",
)
@click.option("--topic-suffix", default=None, help="Appended to every topic name.")
@click.option(
    "--rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Records per wall-clock second; 0 = as fast as possible.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def replay(
    history: Path, bootstrap: str | None, topic_suffix: str | None, rate: float, quiet: bool
) -> None:
    """Produce every good line of HISTORY to its feed topic, keyed as the contract says."""
    from tqdm import tqdm

    from stream.settings import WorkerSettings
    from stream.simulator.producer import FeedProducer, feed_topics, prepare_topics

    settings = WorkerSettings()
    server = bootstrap or settings.kafka.bootstrap
    prepare_topics(settings, server, topic_suffix)
    bad: Counter[str] = Counter()
    with (
        FeedProducer(
            server, feed_topics(settings, topic_suffix), rate=rate, security=settings.kafka
        ) as producer,
        tqdm(unit="rec", disable=True if quiet else None, dynamic_ncols=True) as bar,
    ):
        for line in read_history(history):
            bar.update(1)
            if isinstance(line, BadLine):
                bad[line.reason.split(":")[0]] += 1
                if sum(bad.values()) <= _SHOWN:
                    click.echo(f"line {line.line_no}: {line.reason}", err=True)
                continue
            producer.send_record(line)
    skipped = sum(bad.values())
    if skipped > _SHOWN:
        click.echo(f"... and {skipped - _SHOWN} more bad lines", err=True)
    if producer.failed:
        raise click.ClickException(f"{producer.failed} records could not be produced")
    click.echo(f"{producer.sent} records produced; {skipped} bad lines skipped")
