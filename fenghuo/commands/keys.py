"""``fenghuo keys``: issue, list and revoke API keys of the regulator API.

A key is printed once, at creation; the store keeps only its SHA-256 digest.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session


def _engine(store_url: str | None) -> tuple[Engine, frozenset[str]]:
    from alerts import RoutingTree, StoreConfig, make_engine, migrate
    from api import ApiSettings
    from api.settings import resolve

    settings = ApiSettings()
    config = StoreConfig(url=store_url) if store_url else settings.alerts.store
    engine = make_engine(config)
    if config.migrate:
        migrate(engine)
    agencies = frozenset(RoutingTree.from_file(resolve(settings.alerts.routing_file)).receivers)
    return engine, agencies


_store = click.option("--store", "store_url", default=None, help="Store URL [default: settings].")


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (roles: regulator, officer, admin)."""


@keys.command()
@click.option("--role", required=True, type=click.Choice(["regulator", "officer", "admin"]))
@click.option("--agency", required=True, help="A receiver id (eic, coordination, …) or '*'.")
@click.option("--label", default="", help="Who or what the key is for.")
@_store
def create(role: str, agency: str, label: str, store_url: str | None) -> None:
    """Issue a key; it is shown once, here."""
    from alerts import writer
    from alerts.store import ApiKeys
    from api import check_grant

    engine, agencies = _engine(store_url)
    try:
        check_grant(role, agency, agencies)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--agency") from error
    with Session(writer(engine)) as session, session.begin():
        issued = ApiKeys(session).create(
            role=role, agency=agency, label=label[:128], now=datetime.now(UTC)
        )
    engine.dispose()
    click.echo(f"key id: {issued.key.key_id}  role: {role}  agency: {agency}")
    click.echo(issued.token)
    click.echo("Store this key now: it is not shown again.", err=True)


@keys.command()
@click.argument("key_id")
@_store
def revoke(key_id: str, store_url: str | None) -> None:
    """End the key KEY_ID at once."""
    from alerts import writer
    from alerts.store import ApiKeyNotFound, ApiKeys

    engine, _ = _engine(store_url)
    try:
        with Session(writer(engine)) as session, session.begin():
            key = ApiKeys(session).revoke(key_id, now=datetime.now(UTC))
    except ApiKeyNotFound as error:
        raise click.ClickException(str(error)) from error
    finally:
        engine.dispose()
    assert key.revoked_at is not None
    click.echo(f"revoked {key.key_id} at {key.revoked_at.isoformat()}")


@keys.command(name="list")
@_store
def list_keys(store_url: str | None) -> None:
    """Every key: id, role, agency, label, created, last used, revoked."""
    from alerts.store import ApiKeys

    engine, _ = _engine(store_url)
    with Session(engine) as session:
        found = ApiKeys(session).all()
    engine.dispose()
    for key in found:
        used = key.last_used_at.isoformat() if key.last_used_at else "-"
        revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
        click.echo(
            f"{key.key_id}\t{key.role}\t{key.agency}\t{key.label or '-'}\t"
            f"{key.created_at.isoformat()}\t{used}\t{revoked}"
        )
