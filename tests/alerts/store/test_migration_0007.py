"""Migration 0007 (reminders) up and down on SQLite and PostgreSQL, with rows in the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from alerts import StoreConfig
from alerts.store import current_revision, make_engine, migrate
from alerts.store.tables import alerts, outbox
from tests.alerts.store._alembic import downgrade
from tests.alerts.store._rows import alert_row

SEEN = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def _alert(alert_id: str, status: str) -> dict[str, Any]:
    return alert_row(alert_id, SEEN, status=status, revision=3)


def _row(alert_id: str, revision: int, kind: str, delivered: datetime | None) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "revision": revision,
        "receiver": "eic",
        "kind": kind,
        "group_key": "route:g",
        "payload": {"id": f"{alert_id}.{revision}"},
        "created_at": SEEN,
        "next_attempt_at": SEEN,
        "delivered_at": delivered,
    }


@pytest.fixture
def at_0006(store_url: str) -> Iterator[Engine]:
    """A store at 0006 holding: an open alert notified twice (and once still pending to
    another receiver), a resolved alert, and an open alert never delivered."""
    engine = make_engine(StoreConfig(url=store_url))
    migrate(engine, "0006")
    with engine.begin() as connection:
        connection.execute(
            insert(alerts),
            [_alert("open", "open"), _alert("closed", "resolved"), _alert("queued", "open")],
        )
        rows = [
            _row("open", 1, "opened", SEEN),
            _row("open", 2, "updated", SEEN + timedelta(hours=1)),
            {**_row("open", 2, "updated", None), "receiver": "coordination"},
            _row("closed", 1, "opened", SEEN),
            _row("closed", 2, "resolved", SEEN + timedelta(hours=2)),
            _row("queued", 1, "opened", None),
        ]
        connection.execute(insert(outbox), rows)
    yield engine
    engine.dispose()


def _armed(engine: Engine) -> list[tuple[str, int, datetime]]:
    query = (
        select(outbox.c.alert_id, outbox.c.revision, outbox.c.repeat_at)
        .where(outbox.c.repeat_at.is_not(None))
        .order_by(outbox.c.id)
    )
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(query)]


def test_upgrade_arms_the_latest_delivered_notification_of_each_open_alert(
    at_0006: Engine,
) -> None:
    migrate(at_0006, "0007")
    assert _armed(at_0006) == [("open", 2, SEEN + timedelta(hours=1))]


def test_upgrade_numbers_existing_rows_as_changes(at_0006: Engine) -> None:
    migrate(at_0006, "0007")
    with at_0006.connect() as connection:
        assert set(connection.scalars(select(outbox.c.repeat))) == {0}


def test_after_upgrade_a_reminder_may_share_its_change_revision(at_0006: Engine) -> None:
    migrate(at_0006, "0007")
    with at_0006.begin() as connection:
        connection.execute(insert(outbox), {**_row("open", 2, "updated", None), "repeat": 1})
    with pytest.raises(IntegrityError), at_0006.begin() as connection:
        connection.execute(insert(outbox), {**_row("open", 2, "updated", None), "repeat": 1})


def test_downgrade_drops_the_reminders_and_restores_the_old_key(at_0006: Engine) -> None:
    migrate(at_0006, "0007")
    with at_0006.begin() as connection:
        connection.execute(insert(outbox), {**_row("open", 2, "updated", None), "repeat": 1})
    downgrade(at_0006, "0006")
    assert current_revision(at_0006) == "0006"
    with at_0006.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM outbox")) == 6
    with pytest.raises(IntegrityError), at_0006.begin() as connection:
        connection.execute(insert(outbox), _row("open", 1, "opened", None))


def test_downgraded_store_upgrades_again(at_0006: Engine) -> None:
    migrate(at_0006, "0007")
    downgrade(at_0006, "0006")
    migrate(at_0006, "0007")
    assert current_revision(at_0006) == "0007"
    assert _armed(at_0006) == [("open", 2, SEEN + timedelta(hours=1))]
