"""``fenghuo api``: serve the regulator alert API with uvicorn (settings from fenghuo.toml)."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from pydantic import ValidationError

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default=None, help="Bind address [default: api.host, 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port [default: 8000].")
@click.option("--store", "store_url", default=None, help="Alert store URL [default: settings].")
@click.option(
    "--ssl-certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Serve HTTPS with this PEM certificate (chain) [default: api.tls_certfile].",
)
@click.option(
    "--ssl-keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The certificate's PEM private key [default: api.tls_keyfile].",
)
def api(
    host: str | None,
    port: int | None,
    store_url: str | None,
    ssl_certfile: Path | None,
    ssl_keyfile: Path | None,
) -> None:
    """Serve the regulator alert API (HTTPS with --ssl-certfile/--ssl-keyfile or
    api.tls_certfile/tls_keyfile)."""
    import uvicorn

    from alerts import StoreConfig
    from api import ApiSettings, create_app
    from api.settings import resolve

    try:
        settings = ApiSettings()
    except ValidationError as error:
        raise click.ClickException(f"bad configuration: {error}") from error
    if store_url:
        alerts = settings.alerts.model_copy(update={"store": StoreConfig(url=store_url)})
        settings = settings.model_copy(update={"alerts": alerts})
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise click.UsageError("--ssl-certfile and --ssl-keyfile go together: give both or none")
    update: dict[str, object] = {
        "host": host or settings.api.host,
        "port": port or settings.api.port,
    }
    if ssl_certfile is not None:
        update.update(tls_certfile=ssl_certfile, tls_keyfile=ssl_keyfile)
    section = settings.api.model_copy(update=update)
    settings = settings.model_copy(update={"api": section})
    bind_host, bind_port = section.host, section.port
    tls = section.tls_certfile is not None and section.tls_keyfile is not None
    click.echo(f"Fenghuo API on {'https' if tls else 'http'}://{bind_host}:{bind_port}")
    uvicorn.run(
        create_app(settings),
        host=bind_host,
        port=bind_port,
        log_config=None,
        ssl_certfile=str(resolve(section.tls_certfile)) if section.tls_certfile else None,
        ssl_keyfile=str(resolve(section.tls_keyfile)) if section.tls_keyfile else None,
    )
