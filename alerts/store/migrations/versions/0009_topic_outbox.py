"""The ``alerts`` topic's outbox: each alert change the worker commits, until it is produced.

A worker killed between committing a change and producing its CloudEvent lost that CloudEvent
(the replayed finding changes nothing in the store). The change is now written here in the same
transaction; the worker marks the row published once the broker has acknowledged it, and a
relay produces the rows left unpublished. Existing alerts are not backfilled: their changes
were produced (or lost) before the upgrade.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alerts.store.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UNPUBLISHED = sa.text("published_at IS NULL")
PUBLISHED = sa.text("published_at IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "topic_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dedup_key", sa.String(length=512), nullable=False),
        sa.Column("cloudevent", sa.Text(), nullable=False),
        sa.Column("created_at", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("relay_at", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("published_at", alerts.store.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.alert_id"], name=op.f("fk_topic_outbox_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic_outbox")),
        sa.UniqueConstraint("alert_id", "revision", name=op.f("uq_topic_outbox_alert_id_revision")),
    )
    op.create_index(
        "ix_topic_outbox_unpublished",
        "topic_outbox",
        ["relay_at", "id"],
        sqlite_where=UNPUBLISHED,
        postgresql_where=UNPUBLISHED,
    )
    op.create_index(
        "ix_topic_outbox_published_at",
        "topic_outbox",
        ["published_at"],
        sqlite_where=PUBLISHED,
        postgresql_where=PUBLISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_topic_outbox_published_at", table_name="topic_outbox")
    op.drop_index("ix_topic_outbox_unpublished", table_name="topic_outbox")
    op.drop_table("topic_outbox")
