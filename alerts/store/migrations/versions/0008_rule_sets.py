"""Rule sets stored through the admin API (versions, the active one) and their audit trail.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alerts.store.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_sets",
        sa.Column("version_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("declared_version", sa.String(length=40), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("activated_at", alerts.store.tables.UTCDateTime(), nullable=True),
        sa.Column("activated_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_rule_sets")),
    )
    op.create_index(
        "uq_rule_sets_active",
        "rule_sets",
        ["active"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "rule_set_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("at", alerts.store.tables.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["rule_sets.version_id"],
            name=op.f("fk_rule_set_history_version_id_rule_sets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_set_history")),
    )
    op.create_index(
        "ix_rule_set_history_version_id", "rule_set_history", ["version_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_rule_set_history_version_id", table_name="rule_set_history")
    op.drop_table("rule_set_history")
    op.drop_index("uq_rule_sets_active", table_name="rule_sets")
    op.drop_table("rule_sets")
