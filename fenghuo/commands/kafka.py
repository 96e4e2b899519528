"""``fenghuo kafka``: the local development broker (pinned Kafka, KRaft single node, 127.0.0.1).

Runtime files live in ``var/kafka`` (or ``$FENGHUO_VAR_DIR/kafka``); see deploy/kafka/README.md.
"""

from __future__ import annotations

from pathlib import Path

import click

from stream.broker import BrokerError, BrokerSettings, BrokerTls, KafkaBroker


def _broker(
    port: int | None, controller_port: int | None, tls: BrokerTls | None = None
) -> KafkaBroker:
    """The dev broker, on other ports if asked (e.g. when 19092 is taken)."""
    default = BrokerSettings()
    return KafkaBroker(
        BrokerSettings(
            port=default.port if port is None else port,
            controller_port=default.controller_port if controller_port is None else controller_port,
            tls=tls,
        )
    )


def _users(path: Path | None) -> tuple[tuple[str, str], ...]:
    """``name=password`` lines (``#`` comments and blank lines skipped)."""
    if path is None:
        return ()
    users = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, password = line.partition("=")
        if not sep or not name or not password:
            raise click.BadParameter(
                f"line {number}: expected NAME=PASSWORD", param_hint="--sasl-users"
            )
        users.append((name.strip(), password.strip()))
    return tuple(users)


def _tls(
    cert: Path | None, key: Path | None, ssl_port: int, sasl_ssl_port: int, users: Path | None
) -> BrokerTls | None:
    if cert is None and key is None:
        if users is not None:
            raise click.UsageError(
                "--sasl-users needs --tls-cert and --tls-key (SASL_SSL listener)"
            )
        return None
    if cert is None or key is None:
        raise click.UsageError("--tls-cert and --tls-key go together: give both or none")
    try:
        return BrokerTls(cert, key, ssl_port, sasl_ssl_port, users=_users(users))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--sasl-users") from error


_port = click.option("--port", type=int, default=None, help="Client port [default: 19092].")
_controller_port = click.option(
    "--controller-port", type=int, default=None, help="KRaft controller port [default: 19093]."
)


@click.group()
def kafka() -> None:
    """Fetch, start, stop and inspect the local Kafka broker.

    The broker is Kafka (version pinned in deploy/kafka/pom.xml) running as one background JVM
    that is both broker and KRaft controller, listening on 127.0.0.1 only. It needs Java 17+ and,
    for the first fetch, Maven. Data, logs and jars live in var/kafka (FENGHUO_VAR_DIR moves it).
    """


@kafka.command(short_help="Download the pinned Kafka jars with Maven (once).")
def fetch() -> None:
    """Download the pinned Kafka jars with Maven into var/kafka/libs (once; start does it too)."""
    broker = KafkaBroker()
    try:
        fetched = broker.fetch()
    except BrokerError as error:
        raise click.ClickException(str(error)) from error
    verb = "Fetched" if fetched else "Already have"
    click.echo(f"{verb} Kafka {broker.version} jars in {broker.settings.libs_dir}")


@kafka.command(short_help="Start the broker; wait until it answers.")
@click.option(
    "--wait",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for the broker to answer before giving up.",
)
@_port
@_controller_port
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Broker certificate (PEM): adds an SSL and a SASL_SSL listener.",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Its private key (PEM PKCS#8, no password).",
)
@click.option("--ssl-port", type=int, default=19094, show_default=True, help="SSL listener.")
@click.option(
    "--sasl-ssl-port", type=int, default=19095, show_default=True, help="SASL_SSL listener."
)
@click.option(
    "--sasl-users",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of NAME=PASSWORD lines: SASL users (PLAIN, SCRAM-SHA-256/512; SCRAM users "
    "are added only when the storage is first formatted).",
)
def start(
    wait: float,
    port: int | None,
    controller_port: int | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    ssl_port: int,
    sasl_ssl_port: int,
    sasl_users: Path | None,
) -> None:
    """Start the broker in the background and wait until it answers metadata requests.

    Fetches the jars and formats the storage first when needed. Does nothing if it already runs.
    With --tls-cert/--tls-key it also listens with SSL and SASL_SSL (docs/operations.md).
    """
    tls = _tls(tls_cert, tls_key, ssl_port, sasl_ssl_port, sasl_users)
    broker = _broker(port, controller_port, tls)
    try:
        seconds = broker.start(wait=wait)
    except BrokerError as error:
        raise click.ClickException(str(error)) from error
    pid = broker.pid()
    if seconds == 0.0:
        click.echo(f"Kafka {broker.version} is already running on {broker.settings.bootstrap}")
    else:
        click.echo(
            f"Kafka {broker.version} started on {broker.settings.bootstrap} (pid {pid}) "
            f"in {seconds:.1f} s"
        )
    if tls is not None:
        s = broker.settings
        click.echo(f"TLS listeners: SSL {s.ssl_bootstrap}, SASL_SSL {s.sasl_ssl_bootstrap}")
    click.echo(f"Logs: {broker.server_log}")


@kafka.command(short_help="Stop the broker cleanly (data is kept).")
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait for a clean shutdown before killing the JVM.",
)
def stop(timeout: float) -> None:
    """Stop the broker: clean shutdown (SIGTERM), SIGKILL after --timeout. Data is kept."""
    broker = KafkaBroker()
    try:
        stopped = broker.stop(timeout=timeout)
    except BrokerError as error:
        raise click.ClickException(str(error)) from error
    click.echo("Kafka stopped" if stopped else "Kafka was not running")


@kafka.command(short_help="Say whether the broker runs and answers.")
@_port
@_controller_port
def status(port: int | None, controller_port: int | None) -> None:
    """Say whether the broker runs and answers; exit status 1 when it does not answer."""
    state = _broker(port, controller_port).status()
    if state.answering and state.running:
        click.echo(f"Kafka {state.version} is running on {state.bootstrap} (pid {state.pid})")
    elif state.answering:
        click.echo(f"A broker answers on {state.bootstrap}, but it was not started from this home")
    elif state.running:
        click.echo(f"Kafka (pid {state.pid}) is running but not answering on {state.bootstrap}")
    else:
        click.echo(f"Kafka is not running (expected on {state.bootstrap})")
    jars = "present" if state.fetched else "missing: run `fenghuo kafka fetch`"
    click.echo(f"Home: {state.home}; Kafka {state.version} jars {jars}")
    if not state.answering:
        raise SystemExit(1)
