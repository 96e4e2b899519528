"""Initial alert store: alerts, alert_routes, alert_events, alert_history, outbox.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alerts.store.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("dedup_key", sa.String(length=512), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("feed", sa.String(length=20), nullable=False),
        sa.Column("detector_kind", sa.String(length=20), nullable=False),
        sa.Column("detector_name", sa.String(length=100), nullable=False),
        sa.Column("detector_version", sa.String(length=40), nullable=False),
        sa.Column("entity_type", sa.String(length=30), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("institution_id", sa.String(length=128), nullable=True),
        sa.Column("institution_type", sa.String(length=30), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("routes", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("event_ids", sa.JSON(), nullable=False),
        sa.Column("first_seen", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("last_seen", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("resolved_at", alerts.store.tables.UTCDateTime(), nullable=True),
        sa.Column("created_at", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("updated_at", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("assignee", sa.String(length=128), nullable=True),
        sa.Column("escalation_level", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("false_positive", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("acknowledged_at", alerts.store.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alerts")),
    )
    op.create_index(
        "ix_alerts_category_last_seen",
        "alerts",
        ["category", "last_seen", "alert_id"],
        unique=False,
    )
    op.create_index("ix_alerts_dedup_key", "alerts", ["dedup_key"], unique=False)
    op.create_index(
        "ix_alerts_feed_last_seen", "alerts", ["feed", "last_seen", "alert_id"], unique=False
    )
    op.create_index("ix_alerts_first_seen", "alerts", ["first_seen", "alert_id"], unique=False)
    op.create_index(
        "ix_alerts_institution_last_seen",
        "alerts",
        ["institution_id", "last_seen", "alert_id"],
        unique=False,
    )
    op.create_index(
        "ix_alerts_institution_type_last_seen",
        "alerts",
        ["institution_type", "last_seen", "alert_id"],
        unique=False,
    )
    op.create_index("ix_alerts_last_seen", "alerts", ["last_seen", "alert_id"], unique=False)
    op.create_index(
        "ix_alerts_region_last_seen",
        "alerts",
        ["region_code", "last_seen", "alert_id"],
        unique=False,
    )
    op.create_index(
        "ix_alerts_severity_last_seen",
        "alerts",
        ["severity", "last_seen", "alert_id"],
        unique=False,
    )
    op.create_index(
        "ix_alerts_status_last_seen", "alerts", ["status", "last_seen", "alert_id"], unique=False
    )
    op.create_index(
        "uq_alerts_active_dedup_key",
        "alerts",
        ["dedup_key"],
        unique=True,
        sqlite_where=sa.text("status <> 'resolved'"),
        postgresql_where=sa.text("status <> 'resolved'"),
    )

    op.create_table(
        "alert_events",
        sa.Column("dedup_key", sa.String(length=512), nullable=False),
        sa.Column("event_id", sa.String(length=256), nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("event_time", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("recorded_at", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.alert_id"], name=op.f("fk_alert_events_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("dedup_key", "event_id", name=op.f("pk_alert_events")),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"], unique=False)

    op.create_table(
        "alert_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("at", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.alert_id"], name=op.f("fk_alert_history_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_history")),
    )
    op.create_index("ix_alert_history_alert_id", "alert_history", ["alert_id", "id"], unique=False)

    op.create_table(
        "alert_routes",
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("receiver", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.alert_id"], name=op.f("fk_alert_routes_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("alert_id", "receiver", name=op.f("pk_alert_routes")),
    )
    op.create_index(
        "ix_alert_routes_receiver", "alert_routes", ["receiver", "alert_id"], unique=False
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("receiver", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("group_key", sa.String(length=512), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("delivered_at", alerts.store.tables.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.alert_id"], name=op.f("fk_outbox_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "alert_id", "revision", "receiver", name=op.f("uq_outbox_alert_id_revision_receiver")
        ),
    )
    op.create_index(
        "ix_outbox_pending", "outbox", ["delivered_at", "next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox")

    op.drop_table("outbox")
    op.drop_index("ix_alert_routes_receiver", table_name="alert_routes")

    op.drop_table("alert_routes")
    op.drop_index("ix_alert_history_alert_id", table_name="alert_history")

    op.drop_table("alert_history")
    op.drop_index("ix_alert_events_alert_id", table_name="alert_events")

    op.drop_table("alert_events")
    op.drop_index(
        "uq_alerts_active_dedup_key",
        table_name="alerts",
        sqlite_where=sa.text("status <> 'resolved'"),
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.drop_index("ix_alerts_status_last_seen", table_name="alerts")
    op.drop_index("ix_alerts_severity_last_seen", table_name="alerts")
    op.drop_index("ix_alerts_region_last_seen", table_name="alerts")
    op.drop_index("ix_alerts_last_seen", table_name="alerts")
    op.drop_index("ix_alerts_institution_type_last_seen", table_name="alerts")
    op.drop_index("ix_alerts_institution_last_seen", table_name="alerts")
    op.drop_index("ix_alerts_first_seen", table_name="alerts")
    op.drop_index("ix_alerts_feed_last_seen", table_name="alerts")
    op.drop_index("ix_alerts_dedup_key", table_name="alerts")
    op.drop_index("ix_alerts_category_last_seen", table_name="alerts")

    op.drop_table("alerts")
