"""``fenghuo demo``: the whole pipeline on one machine, alerts printed as they arrive.

Starts (or reuses) the dev broker, creates the topics, then runs the worker, the API (when that
command exists) and the simulator as child processes whose logs go to ``var/demo/``. Ctrl-C
stops the children in reverse order and the broker, if the demo started it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click
import orjson

log = logging.getLogger(__name__)

#: Seconds a child gets to stop after SIGTERM before it is killed.
STOP_SECONDS = 20.0


@click.command()
@click.option("--rate", default=250.0, show_default=True, help="Simulated records per second.")
@click.option("--seed", default=7, show_default=True, help="Simulator seed.")
@click.option(
    "--institutions",
    default=80,
    show_default=True,
    help="Simulated institutions (fewer: the first scenarios come sooner).",
)
@click.option(
    "--bad-rate",
    default=0.002,
    show_default=True,
    help="Share of malformed records mixed in (they go to the dead-letter topics).",
)
@click.option("--api/--no-api", default=True, show_default=True, help="Also serve the API.")
def demo(rate: float, seed: int, institutions: int, bad_rate: float, api: bool) -> None:
    """Run everything: broker, worker, API and simulated feeds; print alerts until Ctrl-C."""
    logging.getLogger().setLevel(logging.WARNING)  # the demo talks through click.echo
    from stream.admin import ensure_topics
    from stream.broker import BrokerError, KafkaBroker
    from stream.security import kafka_python_options
    from stream.settings import WorkerSettings
    from stream.topics import topic_specs

    signal.signal(signal.SIGTERM, _interrupt)
    settings = WorkerSettings()
    bootstrap = settings.kafka.bootstrap
    logs = _var_dir() / "demo"
    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        broker = KafkaBroker()
        if bootstrap == broker.settings.bootstrap:
            click.echo(f"Starting Kafka {broker.version} on {bootstrap} (first run fetches it)…")
            try:
                was_running = broker.pid() is not None
                seconds = broker.start(wait=180)
            except BrokerError as error:
                raise click.ClickException(str(error)) from error
            if not was_running:
                stack.callback(_stop_broker, broker)
            click.echo(f"Kafka answers on {bootstrap} ({seconds:.0f} s)")
        else:
            click.echo(f"Using the configured broker at {bootstrap}")
        ensure_topics(
            bootstrap,
            topic_specs(settings),
            replication_factor=settings.kafka.replication_factor,
            security=settings.kafka,
        )
        alerts = stack.enter_context(
            _alert_reader(bootstrap, settings.topic("alerts"), kafka_python_options(settings.kafka))
        )
        children: list[tuple[str, subprocess.Popen[bytes]]] = []
        stack.callback(_stop_all, children)
        children.append(("worker", _spawn(["worker"], logs / "worker.log")))
        if api and importlib.util.find_spec("fenghuo.commands.api") is not None:
            children.append(("api", _spawn(["api"], logs / "api.log")))
            click.echo("API starting on http://127.0.0.1:8000 (log: var/demo/api.log)")
        elif api:
            click.echo("No API in this build yet (fenghuo.commands.api is missing): skipping it")
        simulate = [
            "simulate", "--bootstrap", bootstrap, "--rate", str(rate), "--seed", str(seed),
            "--institutions", str(institutions), "--bad-rate", str(bad_rate), "--quiet",
        ]  # fmt: skip
        if settings.kafka.topic_suffix:
            simulate += ["--topic-suffix", settings.kafka.topic_suffix]
        children.append(("simulator", _spawn(simulate, logs / "simulator.log")))
        click.echo(f"Worker and simulator running; logs in {logs}. Alerts appear below.")
        click.echo("Press Ctrl-C to stop everything.\n")
        _print_alerts(alerts, children)


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM stops the demo like Ctrl-C does, children and broker included."""
    raise KeyboardInterrupt


def _var_dir() -> Path:
    return Path(os.environ.get("FENGHUO_VAR_DIR", "var"))


def _spawn(args: list[str], logfile: Path) -> subprocess.Popen[bytes]:
    """A ``fenghuo`` subcommand in its own process group, so Ctrl-C reaches only the demo."""
    with logfile.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "fenghuo", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextmanager
def _alert_reader(bootstrap: str, topic: str, security: dict[str, Any]) -> Iterator[Any]:
    """A consumer of ``alerts`` from its current end: this run's alerts, not earlier ones."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **security)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_end(*partitions)
        for tp in partitions:
            consumer.position(tp)
        yield consumer
    finally:
        consumer.close()


def _print_alerts(consumer: Any, children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    shown = 0
    reported: set[str] = set()
    try:
        while True:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    click.echo(alert_line(orjson.loads(record.value)))
                    shown += 1
            for name, child in children:
                if child.poll() is None or name in reported:
                    continue
                reported.add(name)
                message = f"the {name} stopped (exit {child.returncode}); see var/demo/{name}.log"
                if name == "worker":
                    raise click.ClickException(message)
                if child.returncode != 0:
                    click.echo(message, err=True)
    except KeyboardInterrupt:
        click.echo(f"\nStopping ({shown} alerts shown)…")


def alert_line(event: dict[str, Any]) -> str:
    """One readable line per alert change: time, severity, category, entity, routes."""
    data = event.get("data", {})
    kind = str(event.get("type", "")).rsplit(".", 1)[-1]
    where = data.get("institution_id") or "-"
    context = ", ".join(v for v in (data.get("institution_type"), data.get("region_code")) if v)
    routes = ", ".join(data.get("routes", [])) or "-"
    return (
        f"{time.strftime('%H:%M:%S')}  {str(data.get('severity', '?')).upper():8}  "
        f"{data.get('category', '?'):28}  {data.get('entity_type', '?')} "
        f"{data.get('entity_id', '?')} @ {where}{f' ({context})' if context else ''}  "
        f"-> {routes}  [{kind}]"
    )


def _stop_all(children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    """SIGTERM the children newest first (feeds stop before the worker), kill stragglers."""
    for name, child in reversed(children):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                log.warning("%s ignored SIGTERM for %.0f s: killing it", name, STOP_SECONDS)
                child.kill()
                child.wait(5)
        click.echo(f"stopped the {name}")


def _stop_broker(broker: Any) -> None:
    broker.stop()
    click.echo("stopped Kafka")
