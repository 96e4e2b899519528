"""The alert store's tables (SQLAlchemy 2 Core): one schema for SQLite and PostgreSQL.

Times are stored in UTC. Indexes serve the API's filters, each ending in the page order
(``last_seen`` or ``first_seen``, then ``alert_id``), so a filtered page is an index range scan.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

ID = 64
KEY = 512

#: The predicate of the partial indexes on active alerts. Queries must spell it the same way,
#: as literal SQL (``ACTIVE`` itself), for SQLite to use those indexes.
ACTIVE = text("status <> 'resolved'")
#: The predicate of the partial index on outbox rows waiting to be reminded (``repeat_at``).
ARMED = text("repeat_at IS NOT NULL")
#: The predicates of the partial indexes on ``topic_outbox``: rows still to produce, and rows
#: produced (pruned after the retention).
UNPUBLISHED = text("published_at IS NULL")
PUBLISHED = text("published_at IS NOT NULL")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime in, an aware UTC datetime out, on SQLite (naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", String(ID), primary_key=True),
    Column("dedup_key", String(KEY), nullable=False),
    Column("category", String(40), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("score", Float, nullable=False),
    Column("feed", String(20), nullable=False),
    Column("detector_kind", String(20), nullable=False),
    Column("detector_name", String(100), nullable=False),
    Column("detector_version", String(40), nullable=False),
    Column("entity_type", String(30), nullable=False),
    Column("entity_id", String(256), nullable=False),
    Column("institution_id", String(128)),
    Column("institution_type", String(30)),
    Column("region_code", String(6)),
    Column("routes", JSON, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("explanation", JSON, nullable=False),
    Column("event_ids", JSON, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("resolved_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("assignee", String(128)),
    Column("escalation_level", Integer, nullable=False, server_default=text("0")),
    Column("false_positive", Boolean, nullable=False, server_default=text("false")),
    Column("acknowledged_at", UTCDateTime),
    # One active alert per dedup key: the database enforces what the pipeline assumes.
    Index(
        "uq_alerts_active_dedup_key",
        "dedup_key",
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    ),
    Index("ix_alerts_dedup_key", "dedup_key"),
    # Active alerts are few among millions: partial indexes keep the pipeline's lookups
    # (inhibition sources, quiet-period and escalation timers) small whatever the history.
    Index(
        "ix_alerts_active_institution",
        "institution_id",
        "category",
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    ),
    Index("ix_alerts_active_last_seen", "last_seen", sqlite_where=ACTIVE, postgresql_where=ACTIVE),
    Index(
        "ix_alerts_active_created",
        "escalation_level",
        "created_at",
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    ),
    Index("ix_alerts_last_seen", "last_seen", "alert_id"),
    Index("ix_alerts_first_seen", "first_seen", "alert_id"),
    Index("ix_alerts_status_last_seen", "status", "last_seen", "alert_id"),
    Index("ix_alerts_category_last_seen", "category", "last_seen", "alert_id"),
    Index("ix_alerts_severity_last_seen", "severity", "last_seen", "alert_id"),
    Index("ix_alerts_feed_last_seen", "feed", "last_seen", "alert_id"),
    Index("ix_alerts_institution_last_seen", "institution_id", "last_seen", "alert_id"),
    Index("ix_alerts_institution_type_last_seen", "institution_type", "last_seen", "alert_id"),
    Index("ix_alerts_region_last_seen", "region_code", "last_seen", "alert_id"),
)

#: Receivers of each alert, so agency scoping ("alerts routed to eic") is an indexed join. The
#: alert's times are copied here so an agency's newest-first page is one index range.
alert_routes = Table(
    "alert_routes",
    metadata,
    Column("alert_id", String(ID), ForeignKey("alerts.alert_id"), primary_key=True),
    Column("receiver", String(64), primary_key=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Index("ix_alert_routes_receiver_last_seen", "receiver", "last_seen", "alert_id"),
    Index("ix_alert_routes_receiver_first_seen", "receiver", "first_seen", "alert_id"),
)

#: Every event id seen per dedup key: a replayed event finds itself here and changes nothing.
alert_events = Table(
    "alert_events",
    metadata,
    Column("dedup_key", String(KEY), primary_key=True),
    Column("event_id", String(256), primary_key=True),
    Column("alert_id", String(ID), ForeignKey("alerts.alert_id"), nullable=False),
    Column("event_time", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_alert_events_alert_id", "alert_id"),
)

#: Audit trail: who did what to which alert, when (the pipeline is actor ``fenghuo``).
alert_history = Table(
    "alert_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(ID), ForeignKey("alerts.alert_id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(40), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20)),
    Column("revision", Integer, nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_alert_history_alert_id", "alert_id", "id"),
)

#: Transactional outbox: written with the alert change, drained by the delivery workers.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(ID), ForeignKey("alerts.alert_id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("receiver", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("group_key", String(KEY), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Column("last_error", Text),
    # Delivery state (alerts.notify): given up on (still visible), the notification batch the
    # row was first sent in (its idempotency key), and the receiver's channels already done.
    Column("dead_at", UTCDateTime),
    Column("batch_key", String(ID)),
    Column("done_channels", JSON),
    # Reminders (repeat_interval): 0 for the change itself, n for its n-th reminder; and, on a
    # delivered row that is the latest notification of its alert to its receiver, when the
    # pipeline's tick should look at it again (null: never).
    Column("repeat", Integer, nullable=False, server_default=text("0")),
    Column("repeat_at", UTCDateTime),
    UniqueConstraint("alert_id", "revision", "receiver", "repeat"),
    Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),
    # The last notification of a group (group_interval) is an index lookup.
    Index("ix_outbox_group", "receiver", "group_key", "delivered_at"),
    # The tick's reminder scan: the armed rows only, in due order.
    Index("ix_outbox_repeat_at", "repeat_at", "id", sqlite_where=ARMED, postgresql_where=ARMED),
)

#: The ``alerts`` topic's outbox: each alert change the worker commits, as the CloudEvent JSON
#: produced for it (the same bytes every time), until the broker has acknowledged it.
topic_outbox = Table(
    "topic_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(ID), ForeignKey("alerts.alert_id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    # The Kafka key of the record.
    Column("dedup_key", String(KEY), nullable=False),
    Column("cloudevent", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # When the relay may produce the row: the grace after its commit, then a lease per claim.
    Column("relay_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime),
    # One row per change: the CloudEvent id is ``<alert_id>.<revision>``.
    UniqueConstraint("alert_id", "revision"),
    Index(
        "ix_topic_outbox_unpublished",
        "relay_at",
        "id",
        sqlite_where=UNPUBLISHED,
        postgresql_where=UNPUBLISHED,
    ),
    Index(
        "ix_topic_outbox_published_at",
        "published_at",
        sqlite_where=PUBLISHED,
        postgresql_where=PUBLISHED,
    ),
)

#: Silences: matchers over alert labels, muting deliveries between ``starts_at`` and ``ends_at``.
silences = Table(
    "silences",
    metadata,
    Column("silence_id", String(ID), primary_key=True),
    Column("matchers", JSON, nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expired_by", String(128)),
    Index("ix_silences_ends_at", "ends_at", "starts_at"),
)

#: Detector rule sets stored through the admin API: each version is kept (rollback activates an
#: older one), at most one is active, and an active one wins over the rules file in the worker.
rule_sets = Table(
    "rule_sets",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    # The `version` the YAML itself declares; findings carry it with the version id appended.
    Column("declared_version", String(40), nullable=False),
    Column("yaml", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("false")),
    Column("activated_at", UTCDateTime),
    Column("activated_by", String(128)),
    # One active rule set at most: the database enforces what the worker assumes.
    Index(
        "uq_rule_sets_active",
        "active",
        unique=True,
        sqlite_where=text("active"),
        postgresql_where=text("active"),
    ),
)

#: Audit trail of rule changes (created, activated): who, when, which version, why.
rule_set_history = Table(
    "rule_set_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("rule_sets.version_id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(40), nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_rule_set_history_version_id", "version_id", "id"),
)
