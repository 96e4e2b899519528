"""Which open alerts are reminded now (``repeat_interval``), for the pipeline's tick.

The outbox side (armed rows, reminder rows) is ``alerts.store.reminders``; this module decides,
for each due armed row, whether its alert is reminded now, looked at again later, or never
again. Open and escalated alerts are reminded; acknowledged ones (someone works on it),
silenced and inhibited ones are looked at again later; resolved and suppressed ones never.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alerts.alert import Alert, AlertStatus
from alerts.inhibition import EQUAL_COLUMNS, InhibitRule, inhibitor
from alerts.matchers import alert_labels, matches_all
from alerts.routing import RoutingTree
from alerts.silences import Silences
from alerts.store import AlertRepository
from alerts.store.reminders import Reminder, Reminders

#: Statuses whose armed rows are disarmed for good (suppressed only ever resolves).
NEVER_REMINDED = frozenset({AlertStatus.RESOLVED, AlertStatus.SUPPRESSED})


class BatchInhibition:
    """Inhibition checks for a batch of alerts: each rule's candidate sources are read once
    (the shipped rule: the active ``unlicensed_activity`` alerts, normally a handful), then
    matched here; a rule with more than ``max_sources`` candidates is asked per alert."""

    def __init__(
        self, repo: AlertRepository, rules: Sequence[InhibitRule], *, max_sources: int = 1000
    ) -> None:
        self.repo = repo
        self.rules = tuple(rules)
        self.max_sources = max_sources
        self._sources: dict[int, list[Alert] | None] = {}

    def inhibited(self, alert: Alert) -> bool:
        labels = alert_labels(alert)
        for number, rule in enumerate(self.rules):
            if not matches_all(rule.target, labels):
                continue
            sources = self._sources_of(number, rule)
            if sources is None:
                if inhibitor(self.repo, alert, (rule,)) is not None:
                    return True
            elif any(rule.mutes(source, alert) for source in sources):
                return True
        return False

    def _sources_of(self, number: int, rule: InhibitRule) -> list[Alert] | None:
        if number not in self._sources:
            columns: dict[str, str | None] = {}
            for matcher in rule.source:
                column = EQUAL_COLUMNS.get(matcher.label)
                if matcher.op == "=" and column is not None:
                    columns[column] = matcher.value or None
            found = list(self.repo.active_where(columns, limit=self.max_sources + 1))
            self._sources[number] = found if len(found) <= self.max_sources else None
        return self._sources[number]


def queue_reminders(
    repo: AlertRepository, routing: RoutingTree, *, now: datetime, limit: int
) -> tuple[int, int]:
    """One batch of up to ``limit`` due armed rows: queue their reminders, arm them again for
    later, or disarm them (superseded by a newer notification, or the alert is over).
    Returns (rows read, reminders queued)."""
    store = Reminders(repo.session)
    armed = store.due(now=now, limit=limit)
    if not armed:
        return 0, 0
    ids = {a.alert_id for a in armed}
    latest = store.latest(ids)
    current = store.alerts(ids)
    silences = Silences(repo.session).active(now)
    inhibition = BatchInhibition(repo, routing.inhibit_rules)
    times: dict[int, datetime | None] = {}
    queue: list[Reminder] = []
    for row in armed:
        alert = current.get(row.alert_id)
        if (
            alert is None
            or alert.status in NEVER_REMINDED
            or latest.get((row.alert_id, row.receiver)) != row.id
            or row.receiver not in alert.routes
        ):
            times[row.id] = None  # superseded, or nothing more to remind of
            continue
        # The route that reaches the receiver now; the root's for one added by an escalation.
        routes = {m.receiver: m.route for m in routing.matches(alert)}
        route = routes.get(row.receiver, routing.root)
        interval = route.repeat_interval
        due = row.delivered_at + interval
        if due > now:
            times[row.id] = due
            continue
        if alert.status is AlertStatus.ACKNOWLEDGED:
            times[row.id] = now + interval  # someone works on it; look again later
            continue
        silence = next((s for s in silences if s.matches(alert)), None)
        if silence is not None:
            times[row.id] = min(silence.ends_at, now + interval)  # at once when it ends
            continue
        if inhibition.inhibited(alert):
            times[row.id] = now + interval
            continue
        queue.append(Reminder(row, alert, route.group_key(alert)))
    store.rearm(times)
    return len(armed), store.enqueue(queue, now=now)
