"""Partial indexes on active alerts: inhibition sources, quiet-period and escalation timers.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status <> 'resolved'")


def upgrade() -> None:
    for name, columns in (
        ("ix_alerts_active_institution", ["institution_id", "category"]),
        ("ix_alerts_active_last_seen", ["last_seen"]),
        ("ix_alerts_active_created", ["escalation_level", "created_at"]),
    ):
        op.create_index(name, "alerts", columns, sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index("ix_alerts_active_created", table_name="alerts")
    op.drop_index("ix_alerts_active_last_seen", table_name="alerts")
    op.drop_index("ix_alerts_active_institution", table_name="alerts")
