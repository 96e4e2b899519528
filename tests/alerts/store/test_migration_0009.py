"""Migration 0009 (the ``alerts`` topic's outbox) up and down on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from alerts import StoreConfig
from alerts.store import current_revision, make_engine, migrate
from alerts.store.tables import alerts, topic_outbox
from tests.alerts.store._alembic import downgrade
from tests.alerts.store._rows import alert_row

SEEN = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def _row(revision: int, published: datetime | None = None) -> dict[str, Any]:
    return {
        "alert_id": "al-1",
        "revision": revision,
        "kind": "opened" if revision == 1 else "updated",
        "dedup_key": "usurious_rate:FJ-1:al-1",
        "cloudevent": f'{{"id":"al-1.{revision}"}}',
        "created_at": SEEN,
        "relay_at": SEEN,
        "published_at": published,
    }


def _where(index: Any) -> str:
    """An index's predicate as reflected, lower case without brackets."""
    options = index.get("dialect_options", {})
    where = options.get("postgresql_where", options.get("sqlite_where", ""))
    return str(where).lower().replace("(", "").replace(")", "")


@pytest.fixture
def at_0008(store_url: str) -> Iterator[Engine]:
    """A store at 0008 holding one alert."""
    engine = make_engine(StoreConfig(url=store_url))
    migrate(engine, "0008")
    with engine.begin() as connection:
        connection.execute(insert(alerts), alert_row("al-1", SEEN))
    yield engine
    engine.dispose()


def test_upgrade_creates_the_table_with_its_partial_indexes(at_0008: Engine) -> None:
    migrate(at_0008, "0009")

    indexes = {
        i["name"]: (i["column_names"], _where(i))
        for i in inspect(at_0008).get_indexes("topic_outbox")
        if str(i["name"]).startswith("ix_")  # PostgreSQL also lists the unique constraint
    }
    assert indexes == {
        "ix_topic_outbox_unpublished": (["relay_at", "id"], "published_at is null"),
        "ix_topic_outbox_published_at": (["published_at"], "published_at is not null"),
    }


def test_upgrade_queues_nothing_for_existing_alerts(at_0008: Engine) -> None:
    migrate(at_0008, "0009")

    with at_0008.connect() as connection:
        assert connection.execute(select(topic_outbox)).all() == []


def test_after_upgrade_a_change_is_queued_once(at_0008: Engine) -> None:
    migrate(at_0008, "0009")
    with at_0008.begin() as connection:
        connection.execute(insert(topic_outbox), _row(1))

    with pytest.raises(IntegrityError), at_0008.begin() as connection:
        connection.execute(insert(topic_outbox), _row(1, published=SEEN))


def test_downgrade_drops_the_table_and_keeps_the_alerts(at_0008: Engine) -> None:
    migrate(at_0008, "0009")
    with at_0008.begin() as connection:
        connection.execute(insert(topic_outbox), [_row(1, published=SEEN), _row(2)])

    downgrade(at_0008, "0008")

    assert current_revision(at_0008) == "0008"
    assert "topic_outbox" not in inspect(at_0008).get_table_names()
    with at_0008.connect() as connection:
        assert connection.scalars(select(alerts.c.alert_id)).all() == ["al-1"]


def test_downgraded_store_upgrades_again(at_0008: Engine) -> None:
    migrate(at_0008, "0009")
    downgrade(at_0008, "0008")

    migrate(at_0008, "0009")

    assert current_revision(at_0008) == "0009"
    with at_0008.begin() as connection:
        connection.execute(insert(topic_outbox), _row(1))
