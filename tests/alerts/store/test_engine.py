"""The engine factory: SQLite file in WAL mode, in-memory SQLite, masked passwords."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from alerts import StoreConfig, make_engine
from alerts.config import default_store_url


def test_sqlite_file_store_runs_in_wal_mode_in_a_created_folder(tmp_path: Path) -> None:
    engine = make_engine(StoreConfig(url=f"sqlite:///{tmp_path}/nested/store.db"))
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (tmp_path / "nested" / "store.db").exists()
    engine.dispose()


def test_in_memory_store_is_shared_by_every_connection() -> None:
    engine = make_engine(StoreConfig(url="sqlite://"))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_default_store_is_fenghuo_db_in_the_var_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FENGHUO_VAR_DIR", raising=False)
    assert default_store_url() == "sqlite:///var/fenghuo.db"
    monkeypatch.setenv("FENGHUO_VAR_DIR", "elsewhere")
    assert StoreConfig().url == "sqlite:///elsewhere/fenghuo.db"


def test_password_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    config = StoreConfig(
        url="postgresql+psycopg://fenghuo@127.0.0.1:1/none", password=SecretStr("s3cret")
    )
    with caplog.at_level(logging.INFO, logger="alerts.store.engine"):
        engine = make_engine(config)
    assert engine.url.password == "s3cret"
    assert "s3cret" not in caplog.text
    assert "***" in caplog.text
