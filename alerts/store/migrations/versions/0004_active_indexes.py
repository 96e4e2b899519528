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
    where = {"sqlite_where": ACTIVE, "postgresql_where": ACTIVE}
    op.create_index(
        "ix_alerts_active_institution", "alerts", ["institution_id", "category"], **where
    )
    op.create_index("ix_alerts_active_last_seen", "alerts", ["last_seen"], **where)
    op.create_index(
        "ix_alerts_active_created", "alerts", ["escalation_level", "created_at"], **where
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_active_created", table_name="alerts")
    op.drop_index("ix_alerts_active_last_seen", table_name="alerts")
    op.drop_index("ix_alerts_active_institution", table_name="alerts")
