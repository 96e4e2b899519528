"""Outbox delivery state: dead letters, stable notification batches, channels already done.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alerts.store.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("dead_at", alerts.store.tables.UTCDateTime(), nullable=True))
    op.add_column("outbox", sa.Column("batch_key", sa.String(length=64), nullable=True))
    op.add_column("outbox", sa.Column("done_channels", sa.JSON(), nullable=True))
    op.create_index("ix_outbox_group", "outbox", ["receiver", "group_key", "delivered_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_group", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("done_channels")
        batch.drop_column("batch_key")
        batch.drop_column("dead_at")
