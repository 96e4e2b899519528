"""``make_engine(StoreConfig)``: SQLite (embedded default, WAL) or PostgreSQL (production)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.pool import StaticPool

from alerts.config import StoreConfig

log = logging.getLogger(__name__)

#: Execution option naming SQLite's BEGIN mode (DEFERRED, IMMEDIATE); other databases ignore it.
SQLITE_BEGIN = "fenghuo_sqlite_begin"


def make_engine(config: StoreConfig) -> Engine:
    """Build the store engine; a SQLite file's folder is created, ``sqlite://`` is in memory.

    SQLite runs in WAL mode (readers never block the writer: the API reads while the worker
    writes) with foreign keys on and a busy timeout; PostgreSQL gets a pre-pinged pool.
    """
    url = make_url(config.url)
    if config.password is not None:
        url = url.set(password=config.password.get_secret_value())
    log.info("alert store %s", url.render_as_string(hide_password=True))
    if url.get_backend_name() != "sqlite":
        return create_engine(
            url, echo=config.echo, pool_size=config.pool_size, pool_pre_ping=True, future=True
        )
    kwargs: dict[str, Any] = {"echo": config.echo}
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        assert url.database is not None
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False}
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so ``_begin`` can choose the locking mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(config.busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): a deferred transaction that
        # reads and then writes can fail with "database is locked" instead of waiting its turn.
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def writer(engine: Engine) -> Engine:
    """The engine for read-then-write transactions (SQLite: ``BEGIN IMMEDIATE``)."""
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
