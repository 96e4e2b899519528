"""``fenghuo api``: serve the regulator alert API with uvicorn (settings from fenghuo.toml)."""

from __future__ import annotations

import logging

import click
from pydantic import ValidationError

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default=None, help="Bind address [default: api.host, 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port [default: 8000].")
@click.option("--store", "store_url", default=None, help="Alert store URL [default: settings].")
def api(host: str | None, port: int | None, store_url: str | None) -> None:
    """Serve the regulator alert API (HTTPS when api.tls_certfile/tls_keyfile are set)."""
    import uvicorn

    from alerts import StoreConfig
    from api import ApiSettings, create_app

    try:
        settings = ApiSettings()
    except ValidationError as error:
        raise click.ClickException(f"bad configuration: {error}") from error
    if store_url:
        alerts = settings.alerts.model_copy(update={"store": StoreConfig(url=store_url)})
        settings = settings.model_copy(update={"alerts": alerts})
    section = settings.api.model_copy(
        update={"host": host or settings.api.host, "port": port or settings.api.port}
    )
    settings = settings.model_copy(update={"api": section})
    bind_host, bind_port = section.host, section.port
    tls = section.tls_certfile is not None
    click.echo(f"Fenghuo API on {'https' if tls else 'http'}://{bind_host}:{bind_port}")
    uvicorn.run(
        create_app(settings),
        host=bind_host,
        port=bind_port,
        log_config=None,
        ssl_certfile=str(section.tls_certfile) if tls else None,
        ssl_keyfile=str(section.tls_keyfile) if tls else None,
    )
