"""Reminders (repeat_interval): outbox rows carry a repeat number and the time to look again.

The unique key becomes (alert_id, revision, receiver, repeat), so the n-th reminder of a change
is a row of its own. The latest delivered notification of each active alert to each receiver
is armed with its delivery time: the pipeline's tick then schedules its reminder.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alerts.store.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ARMED = sa.text("repeat_at IS NOT NULL")
OLD_KEY = "uq_outbox_alert_id_revision_receiver"
NEW_KEY = "uq_outbox_alert_id_revision_receiver_repeat"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("repeat", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(sa.Column("repeat_at", alerts.store.tables.UTCDateTime(), nullable=True))
        batch.drop_constraint(OLD_KEY, type_="unique")
        batch.create_unique_constraint(NEW_KEY, ["alert_id", "revision", "receiver", "repeat"])
    op.create_index(
        "ix_outbox_repeat_at",
        "outbox",
        ["repeat_at", "id"],
        sqlite_where=ARMED,
        postgresql_where=ARMED,
    )
    # Alerts open at the upgrade get their reminders too: arm each one's latest notification
    # per receiver (the tick works out when it is due, from the routing tree).
    op.execute(
        "UPDATE outbox SET repeat_at = delivered_at"
        " WHERE delivered_at IS NOT NULL AND kind <> 'resolved'"
        " AND alert_id IN (SELECT a.alert_id FROM alerts a WHERE a.status <> 'resolved')"
        " AND NOT EXISTS (SELECT 1 FROM outbox newer WHERE newer.alert_id = outbox.alert_id"
        " AND newer.receiver = outbox.receiver AND newer.id > outbox.id)"
    )


def downgrade() -> None:
    # The old key cannot hold a change and its reminders: the reminders go.
    op.execute("DELETE FROM outbox WHERE repeat > 0")
    op.drop_index("ix_outbox_repeat_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(NEW_KEY, type_="unique")
        batch.create_unique_constraint(OLD_KEY, ["alert_id", "revision", "receiver"])
        batch.drop_column("repeat_at")
        batch.drop_column("repeat")
