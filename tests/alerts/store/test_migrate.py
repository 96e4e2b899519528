"""Migrations create exactly the schema the tables declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from alerts.store import current_revision, head_revision, metadata, migrate


def test_migration_creates_exactly_the_declared_tables(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set(metadata.tables)


def test_migrated_schema_matches_the_tables_module(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, metadata) == []


def test_migrated_store_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision() is not None


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set(metadata.tables)
