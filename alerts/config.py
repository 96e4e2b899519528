"""The ``alerts`` sections of the worker's and API's settings (plain ``BaseModel``s).

Only each process's root class is a ``BaseSettings``; it embeds these, so
``FENGHUO_ALERTS__QUIET_PERIOD=PT6H`` or ``FENGHUO_ALERTS__STORE__URL=…`` override them.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator


def default_store_url() -> str:
    """SQLite file ``fenghuo.db`` in the runtime folder (``var/`` or ``$FENGHUO_VAR_DIR``)."""
    var_dir = Path(os.environ.get("FENGHUO_VAR_DIR", "var"))
    return f"sqlite:///{(var_dir / 'fenghuo.db').as_posix()}"


class StoreConfig(BaseModel):
    """Where alerts live: SQLite (embedded default, WAL) or PostgreSQL (``postgresql+psycopg://``).

    ``sqlite://`` is an in-memory store (backtests, tests). A password in the URL is masked in
    logs; ``password`` (a ``SecretStr``), when set, replaces the one in the URL.
    """

    url: str = Field(default_factory=default_store_url)
    password: SecretStr | None = None
    echo: bool = False
    pool_size: int = Field(default=5, ge=1)
    busy_timeout_ms: int = Field(default=5000, ge=0)
    migrate: bool = True


class EscalationLevel(BaseModel):
    """When nobody has acknowledged an alert ``after`` this long (wall clock, from its
    opening), it is escalated one level and these receivers are told too."""

    after: timedelta = Field(gt=timedelta(0))
    receivers: list[str] = Field(min_length=1)


def default_escalation() -> list[EscalationLevel]:
    """General Finance follows up unanswered alerts (督办), then the coordination mechanism."""
    return [
        EscalationLevel(after=timedelta(hours=4), receivers=["office.general"]),
        EscalationLevel(after=timedelta(hours=24), receivers=["coordination"]),
    ]


class TopicOutboxConfig(BaseModel):
    """The ``alerts`` topic fed from the store (``alerts.store.TopicOutbox``).

    Every alert change the worker's pipeline commits is also a ``topic_outbox`` row of the same
    transaction. The worker produces it at once and marks it published when the broker has
    acknowledged it; a row still unpublished ``grace`` after its commit (the worker died in
    between, or the broker did not answer) is produced by the relay, which runs every
    ``relay_interval``, ``batch`` rows at a time, each claim a ``lease`` (another worker takes
    the row only after it). Published rows are deleted ``retention`` after publication.
    """

    grace: timedelta = Field(default=timedelta(seconds=10), gt=timedelta(0))
    relay_interval: timedelta = Field(default=timedelta(seconds=5), gt=timedelta(0))
    batch: int = Field(default=500, ge=1, le=10_000)
    lease: timedelta = Field(default=timedelta(seconds=60), gt=timedelta(0))
    retention: timedelta = Field(default=timedelta(days=7), gt=timedelta(0))


class AlertsConfig(BaseModel):
    """How findings become alerts.

    ``quiet_period``: an alert with no new occurrence for this long resolves. ``quiet_clock``
    says which clock measures it: ``event`` (default) compares ``last_seen`` with the latest
    event time the pipeline has handled, so a history replayed faster than real time resolves
    exactly as it would have live; ``wall`` compares it with the ``now`` given to ``tick``.
    ``escalation``: levels (increasing ``after``) applied by ``tick`` to alerts still open.
    ``resolve_on_clear_only``: categories that describe a standing condition (a limit breached
    by a book, not a single act); their detectors report when the breach ends (``cleared``), so
    their alerts stay open through quiet spells (a guarantor may report nothing for a weekend)
    instead of resolving and reopening while the breach persists.
    """

    store: StoreConfig = Field(default_factory=StoreConfig)
    routing_file: Path = Path("deploy/config/routing.yaml")
    #: Receivers' delivery channels (webhooks, e-mail, Alertmanager): ``alerts.notify``.
    delivery_file: Path = Path("deploy/config/delivery.yaml")
    quiet_period: timedelta = Field(default=timedelta(hours=24), gt=timedelta(0))
    quiet_clock: Literal["event", "wall"] = "event"
    max_event_ids: int = Field(default=50, ge=2, le=10_000)
    outbox: bool = True
    resolve_on_clear_only: frozenset[str] = frozenset(
        {
            "borrower_concentration",
            "related_party_lending",
            "guarantee_concentration",
            "guarantee_leverage",
            "holder_limit",
        }
    )
    escalation: list[EscalationLevel] = Field(default_factory=default_escalation)
    #: The worker's ``alerts`` topic, fed from the store (at least once, stable CloudEvent ids).
    topic_outbox: TopicOutboxConfig = Field(default_factory=TopicOutboxConfig)

    @field_validator("escalation")
    @classmethod
    def _levels_in_order(cls, levels: list[EscalationLevel]) -> list[EscalationLevel]:
        afters = [level.after for level in levels]
        if afters != sorted(set(afters)):
            raise ValueError(f"escalation levels must have increasing 'after', got {afters}")
        return levels
