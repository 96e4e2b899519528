"""alert_routes carries the alert's first_seen/last_seen: an agency's page is one index range.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alerts.store.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("first_seen", "last_seen"):
        op.add_column(
            "alert_routes", sa.Column(name, alerts.store.tables.UTCDateTime(), nullable=True)
        )
    same = "FROM alerts a WHERE a.alert_id = alert_routes.alert_id"
    op.execute(
        f"UPDATE alert_routes SET first_seen = (SELECT a.first_seen {same}),"
        f" last_seen = (SELECT a.last_seen {same})"
    )
    with op.batch_alter_table("alert_routes") as batch:
        for name in ("first_seen", "last_seen"):
            batch.alter_column(
                name, existing_type=alerts.store.tables.UTCDateTime(), nullable=False
            )
        batch.drop_index("ix_alert_routes_receiver")
        batch.create_index(
            "ix_alert_routes_receiver_last_seen", ["receiver", "last_seen", "alert_id"]
        )
        batch.create_index(
            "ix_alert_routes_receiver_first_seen", ["receiver", "first_seen", "alert_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("alert_routes") as batch:
        batch.drop_index("ix_alert_routes_receiver_first_seen")
        batch.drop_index("ix_alert_routes_receiver_last_seen")
        batch.create_index("ix_alert_routes_receiver", ["receiver", "alert_id"])
        batch.drop_column("last_seen")
        batch.drop_column("first_seen")
