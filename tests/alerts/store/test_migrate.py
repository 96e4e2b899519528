"""Migrations create exactly the schema the tables declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select, text

from alerts import StoreConfig
from alerts.store import current_revision, head_revision, make_engine, metadata, migrate
from alerts.store.tables import alert_routes, alerts
from tests.alerts.store._rows import alert_row


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


def test_route_times_are_backfilled_from_the_alerts(store_url: str) -> None:
    engine = make_engine(StoreConfig(url=store_url))
    migrate(engine, "0005")
    seen = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    row = alert_row(
        "al-1",
        seen,
        dedup_key="usurious_rate:FJ-1:L-1",
        entity_id="L-1",
        last_seen=seen + timedelta(hours=1),
    )
    with engine.begin() as connection:
        connection.execute(insert(alerts), row)
        connection.execute(text("INSERT INTO alert_routes VALUES ('al-1', 'eic')"))
    migrate(engine)
    with engine.connect() as connection:
        times = connection.execute(select(alert_routes.c.first_seen, alert_routes.c.last_seen))
        assert list(times) == [(seen, seen + timedelta(hours=1))]
    engine.dispose()
