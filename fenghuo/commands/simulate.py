"""``fenghuo simulate``: a synthetic Fujian sector with labelled risk scenarios.

Writes a history file and its labels (``--out``), produces to Kafka (``--bootstrap``), or both.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import IO

import click

from models.history import HistoryRecord, labels_path_for, write_labels

log = logging.getLogger(__name__)


def _scenario_mix(value: str) -> int | dict[str, int]:
    """``3`` (each category) or ``usurious_rate=2,wash_trade=5`` (only those)."""
    if value.strip().isdigit():
        return int(value)
    mix: dict[str, int] = {}
    for item in value.split(","):
        name, _, count = item.partition("=")
        if not count.strip().isdigit():
            raise click.BadParameter(f"expected CATEGORY=COUNT, got {item!r}")
        mix[name.strip()] = int(count)
    return mix


@click.command()
@click.option("--seed", default=0, show_default=True, help="Same seed, same history.")
@click.option("--events", type=click.IntRange(min=1), help="Records to generate.")
@click.option("--duration", type=click.FloatRange(min=1), help="Simulated seconds to cover.")
@click.option("--institutions", default=200, show_default=True, type=click.IntRange(min=60))
@click.option(
    "--scenarios",
    default="3",
    show_default=True,
    help="Injections per category, or CATEGORY=COUNT,... for a mix.",
)
@click.option("--start", help="First event time, ISO 8601 with offset (default a Monday, +08:00).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the history here and its labels beside it (X.labels.jsonl).",
)
@click.option(
    "--bootstrap", help="Produce to the Kafka broker at HOST:PORT (TLS/SASL: the [kafka] settings)."
)
@click.option("--topic-suffix", default=None, help="Appended to every topic name.")
@click.option(
    "--rate",
    default=500.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Records per wall-clock second when producing; 0 = as fast as possible.",
)
@click.option(
    "--bad-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of extra malformed records sent to Kafka (never written to --out).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def simulate(
    seed: int,
    events: int | None,
    duration: float | None,
    institutions: int,
    scenarios: str,
    start: str | None,
    out: Path | None,
    bootstrap: str | None,
    topic_suffix: str | None,
    rate: float,
    bad_rate: float,
    quiet: bool,
) -> None:
    """Generate a synthetic history of the local financial sector with labelled scenarios."""
    from stream.simulator import Simulation, SimulatorConfig
    from stream.simulator.config import DEFAULT_START

    if out is None and bootstrap is None:
        raise click.UsageError("give --out FILE, --bootstrap HOST:PORT, or both")
    if events is not None and duration is not None:
        raise click.UsageError("give --events or --duration, not both")
    first = DEFAULT_START
    if start is not None:
        first = datetime.fromisoformat(start)
        if first.tzinfo is None:
            raise click.BadParameter("needs a UTC offset, e.g. +08:00", param_hint="--start")
    try:
        config = SimulatorConfig(
            seed=seed,
            events=events,
            duration=duration,
            institutions=institutions,
            scenarios=_scenario_mix(scenarios),
            start=first,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    sim = Simulation(config)
    with ExitStack() as stack:
        records = _progress(sim.records(), events, quiet, stack)
        history: IO[str] | None = None
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            history = stack.enter_context(out.open("w", encoding="utf-8"))
        count = _emit(records, history, bootstrap, topic_suffix, rate, bad_rate, seed)
    if out is not None:
        labels_file = labels_path_for(out)
        with labels_file.open("w", encoding="utf-8") as fh:
            write_labels(fh, sim.labels)
        click.echo(f"{count} records -> {out}; {len(sim.labels)} scenarios -> {labels_file}")
    else:
        click.echo(f"{count} records produced; {len(sim.labels)} scenarios injected")


def _progress(
    records: Iterator[HistoryRecord], total: int | None, quiet: bool, stack: ExitStack
) -> Iterator[HistoryRecord]:
    if quiet:
        return records
    from tqdm import tqdm

    bar = stack.enter_context(tqdm(total=total, unit="rec", disable=None, dynamic_ncols=True))

    def counted() -> Iterator[HistoryRecord]:
        for record in records:
            bar.update(1)
            yield record

    return counted()


def _emit(
    records: Iterator[HistoryRecord],
    history: IO[str] | None,
    bootstrap: str | None,
    topic_suffix: str | None,
    rate: float,
    bad_rate: float,
    seed: int,
) -> int:
    def written() -> Iterator[HistoryRecord]:
        for record in records:
            if history is not None:
                history.write(record.to_json())
                history.write("\n")
            yield record

    if bootstrap is None:
        return sum(1 for _ in written())
    from stream.settings import WorkerSettings
    from stream.simulator.malformed import with_malformed
    from stream.simulator.producer import FeedProducer, feed_topics, prepare_topics

    settings = WorkerSettings()
    prepare_topics(settings, bootstrap, topic_suffix)
    count = 0
    topics = feed_topics(settings, topic_suffix)
    with FeedProducer(bootstrap, topics, rate=rate, security=settings.kafka) as producer:
        for topic, key, value in with_malformed(written(), bad_rate, random.Random(f"{seed}:bad")):
            producer.send(topic, key, value)
            count += 1
    if producer.failed:
        raise click.ClickException(f"{producer.failed} records could not be produced")
    return count
