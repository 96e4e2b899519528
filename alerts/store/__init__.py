"""The durable alert store: SQLAlchemy 2 tables, engine factory, migrations and repository."""

from alerts.store.engine import make_engine, writer
from alerts.store.keys import ApiKey, ApiKeyNotFound, ApiKeys, IssuedKey
from alerts.store.migrate import current_revision, head_revision, migrate
from alerts.store.queries import AlertQuery, AlertReader, Change, CountRow
from alerts.store.repository import (
    AlertFilter,
    AlertRepository,
    HistoryEntry,
    OutboxItem,
    Page,
    alert_from_row,
)
from alerts.store.rule_sets import (
    RuleSet,
    RuleSetChange,
    RuleSetNotFound,
    RuleSets,
    SavedRuleSet,
)
from alerts.store.tables import metadata
from alerts.store.topic_outbox import TopicOutbox, TopicRecord, record_changes

__all__ = [
    "AlertFilter",
    "AlertQuery",
    "AlertReader",
    "AlertRepository",
    "ApiKey",
    "ApiKeyNotFound",
    "ApiKeys",
    "Change",
    "CountRow",
    "HistoryEntry",
    "IssuedKey",
    "OutboxItem",
    "Page",
    "RuleSet",
    "RuleSetChange",
    "RuleSetNotFound",
    "RuleSets",
    "SavedRuleSet",
    "TopicOutbox",
    "TopicRecord",
    "alert_from_row",
    "current_revision",
    "head_revision",
    "make_engine",
    "metadata",
    "migrate",
    "record_changes",
    "writer",
]
