"""Inhibition: an active alert mutes the deliveries of other alerts it makes redundant.

Alertmanager's inhibit rules: while an active alert matches ``source_matchers``, alerts that
match ``target_matchers`` and have the same values of the ``equal`` labels are not delivered.
The shipped rule: an institution's ``unlicensed_activity`` alert (its licence is revoked,
suspended or missing) mutes that institution's transaction-level alerts (loans, borrowers,
products, owners, accounts): the Office acts on the licence, not on each transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from alerts.alert import Alert
from alerts.errors import RoutingConfigError
from alerts.matchers import (
    ALERT_LABELS,
    Labelled,
    Matcher,
    alert_labels,
    matches_all,
    parse_matcher,
)
from alerts.store import AlertRepository

#: Labels an ``equal`` list may name, and the alerts column each is filtered on (if any).
EQUAL_COLUMNS: dict[str, str | None] = {
    "institution_id": "institution_id",
    "entity_id": "entity_id",
    "region_code": "region_code",
    "category": "category",
    "feed": "feed",
    "severity": "severity",
    "entity_type": "entity_type",
    "institution_type": None,
    "dedup_key": "dedup_key",
}


class InhibitRuleSpec(BaseModel):
    """One ``inhibit_rules`` entry of routing.yaml, as written."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    source_matchers: list[str] = Field(min_length=1)
    target_matchers: list[str] = Field(min_length=1)
    equal: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class InhibitRule:
    name: str
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    def mutes(self, source: Labelled, target: Labelled) -> bool:
        """Does ``source`` (an active alert) mute ``target``? An alert never mutes itself."""
        if source.dedup_key == target.dedup_key:
            return False
        mine, theirs = alert_labels(source), alert_labels(target)
        return (
            matches_all(self.target, theirs)
            and matches_all(self.source, mine)
            and all(mine[label] == theirs[label] for label in self.equal)
        )


def compile_inhibit_rules(specs: Sequence[InhibitRuleSpec], source: str) -> tuple[InhibitRule, ...]:
    rules = []
    for i, spec in enumerate(specs):
        name = spec.name or f"inhibit_rules[{i}]"
        where = f"{source}: inhibit_rules[{i}]" + (f" ({spec.name})" if spec.name else "")
        for label in spec.equal:
            if label not in EQUAL_COLUMNS:
                raise RoutingConfigError(f"{where}: cannot compare label {label!r}")
        rules.append(
            InhibitRule(
                name,
                _parse_all(spec.source_matchers, where),
                _parse_all(spec.target_matchers, where),
                tuple(spec.equal),
            )
        )
    return tuple(rules)


def _parse_all(texts: list[str], where: str) -> tuple[Matcher, ...]:
    return tuple(parse_matcher(t, where=where, labels=ALERT_LABELS) for t in texts)


def inhibitor(
    repo: AlertRepository, alert: Alert, rules: Sequence[InhibitRule], *, limit: int = 100
) -> tuple[InhibitRule, Alert] | None:
    """The first rule and active alert that mute ``alert``, if any.

    The candidates are read through the indexes: the ``equal`` labels and the source's
    equality matchers become column filters; the rest is matched here.
    """
    labels = alert_labels(alert)
    for rule in rules:
        if not matches_all(rule.target, labels):
            continue
        columns: dict[str, str | None] = {}
        for label in rule.equal:
            column = EQUAL_COLUMNS[label]
            if column is not None:
                columns[column] = labels[label] or None
        for matcher in rule.source:
            column = EQUAL_COLUMNS.get(matcher.label)
            if matcher.op == "=" and column is not None and column not in columns:
                columns[column] = matcher.value or None
        for candidate in repo.active_where(columns, limit=limit):
            if rule.mutes(candidate, alert):
                return rule, candidate
    return None
