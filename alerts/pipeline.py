"""``AlertPipeline``: findings in, alert changes out, each change stored with its deliveries.

One transaction per call: the alert, its new event ids, the audit line and the outbox rows for
its receivers commit together (transactional outbox), so a crash never leaves an alert without
its deliveries or a delivery without its alert. Findings whose event ids were all seen before
change nothing, which makes a replayed stream or a second ingest harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from alerts.alert import Alert, AlertChange, AlertStatus, ChangeKind, utc
from alerts.cases import CaseWorkflow
from alerts.config import AlertsConfig
from alerts.dedup import (
    finding_event_ids,
    finding_key,
    merge,
    open_alert,
    quiet_expired,
    resolve,
)
from alerts.errors import AlertsError, RoutingConfigError, StaleAlert, StoreConflict
from alerts.inhibition import inhibitor
from alerts.metrics import AlertMetrics, region_label
from alerts.reminders import queue_reminders
from alerts.routing import RoutingTree
from alerts.silences import Silences
from alerts.store import (
    AlertRepository,
    TopicRecord,
    make_engine,
    migrate,
    record_changes,
    writer,
)
from models import Finding

log = logging.getLogger(__name__)

#: The actor the audit trail names for what the pipeline itself does.
PIPELINE_ACTOR = "fenghuo"
_RETRIES = 3


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class AlertPipeline:
    """Dedup, route and store alerts; ``tick`` resolves alerts whose quiet period has elapsed."""

    def __init__(
        self,
        *,
        engine: Engine,
        routing: RoutingTree,
        config: AlertsConfig | None = None,
        metrics: AlertMetrics | None = None,
        clock: Callable[[], datetime] = _wall_clock,
        topic_outbox: bool = False,
    ) -> None:
        self.engine = engine
        self.routing = routing
        self.config = config or AlertsConfig()
        self.metrics = metrics
        self._clock = clock
        #: Write each change to ``topic_outbox`` in its transaction (the worker, which feeds
        #: the ``alerts`` topic; not ingest or backtests, which have no topic).
        self.topic_outbox = topic_outbox
        self._writer = writer(engine)
        self._watermark: datetime | None = None
        self._watermark_loaded = False

    @classmethod
    def from_config(
        cls,
        config: AlertsConfig,
        *,
        metrics: AlertMetrics | None = None,
        clock: Callable[[], datetime] = _wall_clock,
        topic_outbox: bool = False,
    ) -> AlertPipeline:
        """Load and validate the routing tree, open (and migrate) the store."""
        routing = RoutingTree.from_file(config.routing_file)
        for number, level in enumerate(config.escalation, start=1):
            unknown = [r for r in level.receivers if r not in routing.receivers]
            if unknown:
                raise RoutingConfigError(
                    f"escalation level {number}: unknown receivers {unknown} "
                    f"(not declared in {config.routing_file})"
                )
        engine = make_engine(config.store)
        if config.store.migrate:
            migrate(engine)
        return cls(
            engine=engine,
            routing=routing,
            config=config,
            metrics=metrics,
            clock=clock,
            topic_outbox=topic_outbox,
        )

    @property
    def watermark(self) -> datetime | None:
        """The latest event time handled (the event clock of the quiet period)."""
        return self._watermark

    def handle(self, finding: Finding) -> list[AlertChange]:
        return self.handle_batch([finding])

    def handle_batch(self, findings: Iterable[Finding]) -> list[AlertChange]:
        """Apply findings in order, in one transaction (faster for backtests and ingest)."""
        batch = list(findings)
        if not batch:
            return []
        changes = self._transact(self._queued(lambda repo, now: self._apply_all(repo, batch, now)))
        self._count(changes)
        for finding in batch:
            self._advance(finding.event_time)
        return changes

    def tick(self, now: datetime | None = None) -> list[AlertChange]:
        """Resolve the alerts quiet for longer than ``quiet_period``; escalate the alerts
        nobody acknowledged in time (``escalation`` levels); queue the reminders due
        (``remind``, not among the changes returned).

        Escalation timers and reminders run on the wall clock (``now``, default the pipeline's
        clock); the quiet period on the event clock (the latest event time handled) unless
        ``quiet_clock = "wall"``.
        """
        self._load_watermark()
        clock = utc(now or self._clock()) if self.config.quiet_clock == "wall" else self._watermark
        changes: list[AlertChange] = []
        if clock is not None:
            before = clock - self.config.quiet_period
            while True:
                done = self._transact(
                    self._queued(lambda repo, at: self._resolve_quiet(repo, before, at))
                )
                self._count(done)
                changes.extend(done)
                if len(done) < _TICK_BATCH:
                    break
        if self.config.escalation:
            changes.extend(self._transact(self._queued(self._escalate_overdue), now=now))
        if self.config.outbox:
            try:
                self.remind(now)
            except (SQLAlchemyError, AlertsError):  # the changes above are committed: return them
                log.exception("reminder pass failed; the next tick tries again")
        return changes

    def remind(self, now: datetime | None = None) -> int:
        """Queue reminders (``repeat_interval``) of the alerts still open; returns how many.

        An open or escalated alert is notified again to each receiver ``repeat_interval`` (of
        the route that reaches the receiver) after its last delivered notification there; a
        notified change restarts that clock. Acknowledged, suppressed, resolved, silenced and
        inhibited alerts are not reminded. Reminders are outbox rows like any notification
        (grouped, retried, unique per repeat number), not alert changes, so ``tick`` returns
        none. At most ``_REMIND_ROUNDS`` × ``_TICK_BATCH`` due rows are read per call.
        """
        queued = 0
        for _ in range(_REMIND_ROUNDS):
            read, done = self._transact(self._remind, now=now)
            queued += done
            if read < _TICK_BATCH:
                break
        if queued:
            log.info("queued %d reminders", queued)
        return queued

    def close(self) -> None:
        self.engine.dispose()

    # -- internals ------------------------------------------------------------------------
    def _transact(
        self, work: Callable[[AlertRepository, datetime], _T], *, now: datetime | None = None
    ) -> _T:
        for attempt in range(1, _RETRIES + 1):
            try:
                with Session(self._writer) as session, session.begin():
                    return work(AlertRepository(session), utc(now or self._clock()))
            except (IntegrityError, StaleAlert) as exc:
                # Another writer opened the same dedup key, saw the same event or changed the
                # alert first: start over from what it committed.
                log.warning("alert write collided (attempt %d): %s", attempt, exc)
        raise StoreConflict(f"alert write still colliding after {_RETRIES} attempts")

    def _queued(
        self, work: Callable[[AlertRepository, datetime], list[AlertChange]]
    ) -> Callable[[AlertRepository, datetime], list[AlertChange]]:
        """``work``, then its changes queued for the ``alerts`` topic in the same transaction
        (when ``topic_outbox``): a change is never committed without its CloudEvent."""
        if not self.topic_outbox:
            return work
        grace = self.config.topic_outbox.grace

        def queue(repo: AlertRepository, now: datetime) -> list[AlertChange]:
            changes = work(repo, now)
            records = [TopicRecord.of(change) for change in changes]
            record_changes(repo.session, records, now=now, relay_at=now + grace)
            return [
                replace(change, encoded=record.value)
                for change, record in zip(changes, records, strict=True)
            ]

        return queue

    def _apply_all(
        self, repo: AlertRepository, findings: list[Finding], now: datetime
    ) -> list[AlertChange]:
        changes: list[AlertChange] = []
        for finding in findings:
            changes.extend(self._apply(repo, finding, now))
        return changes

    def _apply(self, repo: AlertRepository, finding: Finding, now: datetime) -> list[AlertChange]:
        key = finding_key(finding)
        event_ids = finding_event_ids(finding)
        seen = repo.seen_event_ids(key, event_ids)
        new_ids = tuple(e for e in event_ids if e not in seen)
        if not new_ids:
            return []
        at = utc(finding.event_time)
        changes: list[AlertChange] = []
        current = repo.active(key, for_update=True)
        quiet = self.config.quiet_period
        clock = at if self.config.quiet_clock == "event" else now
        if (
            current is not None
            and current.category not in self.config.resolve_on_clear_only
            and quiet_expired(current, clock=clock, quiet_period=quiet)
        ):
            closed = resolve(current, at=current.last_seen + quiet, now=now)
            changes.append(self._store(repo, current, closed, "resolved", now, {"quiet": True}))
            current = None
        if finding.cleared:
            if current is not None:
                closed = resolve(current, at=at, now=now)
                detail = {"cleared_by": finding.detector.name, "event_ids": list(new_ids)}
                changes.append(self._store(repo, current, closed, "resolved", now, detail))
                repo.record_events(closed, new_ids, event_time=at, now=now)
            return changes
        size = self.config.max_event_ids
        if current is None:
            alert = open_alert(finding, event_ids=new_ids, max_event_ids=size, now=now)
            alert = replace(alert, routes=tuple(self.routing.route(alert)))
            changes.append(self._store(repo, None, alert, "opened", now, {}))
        else:
            merged = merge(current, finding, event_ids=new_ids, max_event_ids=size, now=now)
            routes = tuple(dict.fromkeys(current.routes + tuple(self.routing.route(merged))))
            alert = replace(merged, routes=routes)
            changes.append(self._store(repo, current, alert, "updated", now, {}))
        repo.record_events(alert, new_ids, event_time=at, now=now)
        return changes

    def _store(
        self,
        repo: AlertRepository,
        before: Alert | None,
        after: Alert,
        kind: ChangeKind,
        now: datetime,
        detail: dict[str, Any],
    ) -> AlertChange:
        """Save the alert; audit and queue deliveries for the changes people must hear about.

        Openings and resolutions always notify; an update notifies only when it raises the
        severity or reaches new receivers (the occurrences themselves are in alert_events).
        A suppressed, silenced or inhibited alert is stored and audited but not delivered.
        """
        repo.save(after, previous=before)
        notify = kind != "updated" or (
            before is not None
            and (after.severity.rank > before.severity.rank or after.routes != before.routes)
        )
        if not notify:
            return AlertChange(kind, after)
        if kind == "updated" and before is not None:
            detail = {**detail, "severity": [str(before.severity), str(after.severity)]}
            detail["routes_added"] = [r for r in after.routes if r not in before.routes]
        muted_by = self._muted_by(repo, before, after, now) if self.config.outbox else None
        if muted_by:
            detail = {**detail, "muted_by": muted_by}
        repo.add_history(
            after,
            action=kind,
            actor=PIPELINE_ACTOR,
            at=now,
            from_status=str(before.status) if before else None,
            detail=detail,
        )
        if self.config.outbox and not muted_by:
            targets = self.routing.targets(after, after.routes)
            repo.enqueue(after, kind=kind, receivers=targets, now=now)
        return AlertChange(kind, after)

    def _muted_by(
        self, repo: AlertRepository, before: Alert | None, after: Alert, now: datetime
    ) -> str | None:
        """Why the change is not delivered: suppressed, a silence (wall clock) or a rule."""
        if AlertStatus.SUPPRESSED in (after.status, before.status if before else None):
            return "suppressed"
        silence = Silences(repo.session).silencing(after, now)
        if silence is not None:
            return f"silence {silence.silence_id}"
        found = inhibitor(repo, after, self.routing.inhibit_rules)
        if found is not None:
            rule, source = found
            return f"inhibited by {source.alert_id} ({rule.name})"
        return None

    def _resolve_quiet(
        self, repo: AlertRepository, before: datetime, now: datetime
    ) -> list[AlertChange]:
        quiet = self.config.quiet_period
        changes = []
        held = self.config.resolve_on_clear_only
        for alert in repo.quiet_since(before, limit=_TICK_BATCH, exclude_categories=held):
            closed = resolve(alert, at=alert.last_seen + quiet, now=now)
            changes.append(self._store(repo, alert, closed, "resolved", now, {"quiet": True}))
        return changes

    def _escalate_overdue(self, repo: AlertRepository, now: datetime) -> list[AlertChange]:
        workflow = CaseWorkflow(
            repo.session, routing=self.routing, outbox=self.config.outbox, clock=lambda: now
        )
        return workflow.escalate_overdue(self.config.escalation, actor=PIPELINE_ACTOR)

    def _remind(self, repo: AlertRepository, now: datetime) -> tuple[int, int]:
        return queue_reminders(repo, self.routing, now=now, limit=_TICK_BATCH)

    def _count(self, changes: list[AlertChange]) -> None:
        if self.metrics is None:
            return
        for change in changes:
            category = str(change.alert.category)
            if change.kind == "opened":
                self.metrics.opened.labels(category, str(change.alert.severity)).inc()
                region = region_label(change.alert.region_code)
                self.metrics.opened_by_region.labels(category, region).inc()
                for receiver in change.alert.routes:
                    self.metrics.routed.labels(receiver, str(change.alert.severity)).inc()
            elif change.kind == "resolved":
                self.metrics.resolved.labels(category).inc()
            else:
                self.metrics.deduplicated.labels(category).inc()

    def _advance(self, event_time: datetime) -> None:
        self._load_watermark()
        at = utc(event_time)
        if self._watermark is None or at > self._watermark:
            self._watermark = at

    def _load_watermark(self) -> None:
        if not self._watermark_loaded:
            with Session(self.engine) as session:
                stored = AlertRepository(session).latest_event_time()
            if stored is not None and (self._watermark is None or stored > self._watermark):
                self._watermark = stored
            self._watermark_loaded = True


#: Alerts resolved, and armed outbox rows looked at, per transaction by ``tick``.
_TICK_BATCH = 500
#: Reminder transactions per ``tick`` at most: bounds its cost when many fall due at once.
_REMIND_ROUNDS = 2
_T = TypeVar("_T")
