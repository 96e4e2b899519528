"""The case workflow: what people do with an alert, each step kept in the audit trail.

open -> acknowledged -> escalated -> resolved, or suppressed (muted, e.g. a false positive).
Acknowledging stops the escalation timers; escalating raises the level and tells more
receivers; a false positive is marked for rule and model evaluation and suppressed while the
condition lasts (repeats still merge into it, silently). The methods run in the caller's
session and transaction (the API's request), on the alert's current revision: a concurrent
change raises ``StaleAlert`` rather than being overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from alerts.alert import Alert, AlertChange, AlertStatus, ChangeKind, utc
from alerts.config import EscalationLevel
from alerts.dedup import resolve
from alerts.errors import AlertNotFound, InvalidTransition
from alerts.routing import RoutingTree
from alerts.store import AlertRepository, HistoryEntry

#: The statuses each action may start from.
_FROM: dict[str, frozenset[AlertStatus]] = {
    "acknowledged": frozenset({AlertStatus.OPEN, AlertStatus.ESCALATED}),
    "escalated": frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED}),
    "resolved": frozenset(s for s in AlertStatus if s.active),
    "suppressed": frozenset(s for s in AlertStatus if s.active),
    "assigned": frozenset(s for s in AlertStatus if s.active),
}


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class CaseWorkflow:
    """Case actions on stored alerts, for the API (and for ``tick``'s escalation timers)."""

    def __init__(
        self,
        session: Session,
        *,
        routing: RoutingTree,
        outbox: bool = True,
        clock: Callable[[], datetime] = _wall_clock,
    ) -> None:
        self.repo = AlertRepository(session)
        self.routing = routing
        self.outbox = outbox
        self._clock = clock

    def get(self, alert_id: str) -> Alert:
        alert = self.repo.get(alert_id)
        if alert is None:
            raise AlertNotFound(f"no alert {alert_id!r}")
        return alert

    def history(self, alert_id: str) -> list[HistoryEntry]:
        self.get(alert_id)
        return self.repo.history(alert_id)

    def acknowledge(self, alert_id: str, *, actor: str, comment: str | None = None) -> Alert:
        """Someone owns it now; acknowledging twice is harmless."""
        alert = self.get(alert_id)
        if alert.status is AlertStatus.ACKNOWLEDGED:
            return alert
        now = self._now()
        after = replace(alert, status=AlertStatus.ACKNOWLEDGED, acknowledged_at=now)
        return self._apply(alert, after, "acknowledged", actor, now, _note(comment))

    def assign(self, alert_id: str, *, actor: str, assignee: str | None) -> Alert:
        alert = self.get(alert_id)
        after = replace(alert, assignee=assignee)
        detail = {"assignee": assignee, "previous": alert.assignee}
        return self._apply(alert, after, "assigned", actor, self._now(), detail)

    def comment(self, alert_id: str, *, actor: str, text: str) -> HistoryEntry:
        """A note in the audit trail; the alert itself does not change."""
        if not text.strip():
            raise ValueError("a comment needs some text")
        alert = self.get(alert_id)
        now = self._now()
        self.repo.add_history(
            alert,
            action="commented",
            actor=actor,
            at=now,
            from_status=str(alert.status),
            detail={"text": text},
        )
        return self.repo.history(alert_id)[-1]

    def escalate(
        self,
        alert_id: str,
        *,
        actor: str,
        reason: str | None = None,
        receivers: Iterable[str] = (),
    ) -> Alert:
        """One level up; ``receivers`` (ids of the routing tree) are told from now on."""
        return self._escalate(self.get(alert_id), actor, self._now(), list(receivers), reason)

    def resolve(self, alert_id: str, *, actor: str, comment: str | None = None) -> Alert:
        """Closed by a person; a new finding for the same key opens a new alert."""
        alert = self.get(alert_id)
        now = self._now()
        after = resolve(alert, at=max(now, alert.last_seen), now=now)
        after = replace(after, revision=alert.revision)  # _apply bumps it once
        return self._apply(alert, after, "resolved", actor, now, _note(comment), kind="resolved")

    def suppress(self, alert_id: str, *, actor: str, comment: str | None = None) -> Alert:
        """Muted: stays the alert of its key (repeats merge into it) but nobody is told."""
        alert = self.get(alert_id)
        after = replace(alert, status=AlertStatus.SUPPRESSED)
        return self._apply(alert, after, "suppressed", actor, self._now(), _note(comment))

    def mark_false_positive(
        self, alert_id: str, *, actor: str, comment: str | None = None
    ) -> Alert:
        """Not a real risk: kept for evaluation, and suppressed if it is still active."""
        alert = self.get(alert_id)
        after = replace(alert, false_positive=True)
        if alert.active:
            after = replace(after, status=AlertStatus.SUPPRESSED)
        now = self._now()
        return self._apply(alert, after, "false_positive", actor, now, _note(comment), check=False)

    def escalate_overdue(self, levels: list[EscalationLevel], *, actor: str) -> list[AlertChange]:
        """Escalate the alerts nobody acknowledged in time, one level per elapsed ``after``
        (counted from the opening, on the wall clock)."""
        now = self._now()
        changes: list[AlertChange] = []
        for number, level in enumerate(levels, start=1):
            due = self.repo.unacknowledged(level=number - 1, opened_before=now - level.after)
            for alert in due:
                reason = f"not acknowledged within {level.after}"
                after = self._escalate(alert, actor, now, level.receivers, reason)
                changes.append(AlertChange("updated", after))
        return changes

    # -- internals ------------------------------------------------------------------------
    def _now(self) -> datetime:
        return utc(self._clock())

    def _escalate(
        self,
        alert: Alert,
        actor: str,
        now: datetime,
        receivers: list[str],
        reason: str | None,
    ) -> Alert:
        unknown = [r for r in receivers if r not in self.routing.receivers]
        if unknown:
            raise ValueError(f"unknown receivers {unknown}: not declared in the routing tree")
        routes = tuple(dict.fromkeys(alert.routes + tuple(receivers)))
        after = replace(
            alert,
            status=AlertStatus.ESCALATED,
            escalation_level=alert.escalation_level + 1,
            routes=routes,
        )
        detail: dict[str, Any] = {
            "level": after.escalation_level,
            "receivers_added": [r for r in routes if r not in alert.routes],
            **_note(reason),
        }
        return self._apply(alert, after, "escalated", actor, now, detail, kind="updated")

    def _apply(
        self,
        before: Alert,
        after: Alert,
        action: str,
        actor: str,
        now: datetime,
        detail: dict[str, Any],
        *,
        kind: ChangeKind | None = None,
        check: bool = True,
    ) -> Alert:
        if check and before.status not in _FROM[action]:
            raise InvalidTransition(
                f"cannot mark alert {before.alert_id} {action}: it is {before.status}"
            )
        after = replace(after, revision=before.revision + 1, updated_at=now)
        self.repo.save(after, previous=before)
        self.repo.add_history(
            after, action=action, actor=actor, at=now, from_status=str(before.status), detail=detail
        )
        if kind is not None and self.outbox and before.status is not AlertStatus.SUPPRESSED:
            targets = self.routing.targets(after, after.routes)
            self.repo.enqueue(after, kind=kind, receivers=targets, now=now)
        return after


def _note(comment: str | None) -> dict[str, Any]:
    return {"comment": comment} if comment else {}
