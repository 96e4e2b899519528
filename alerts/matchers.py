"""Label matchers (Alertmanager syntax) shared by routes, silences and inhibition rules.

``label="value"``, ``label!="value"``, ``label=~"regex"``, ``label!~"regex"``; regexes are
anchored (full match). A missing label is the empty string. Values of closed sets (category,
severity, …) are checked at parse time, so a typo fails at load instead of never matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from alerts.errors import RoutingConfigError
from models import Category, EntityType, Feed, InstitutionType, Severity

#: The labels a route may test, and their closed sets of values (None: any value).
ROUTE_LABELS: dict[str, frozenset[str] | None] = {
    "category": frozenset(Category),
    "severity": frozenset(Severity),
    "institution_type": frozenset(InstitutionType),
    "region_code": None,
    "feed": frozenset(Feed),
}
#: Silences and inhibition rules may also name one institution, entity or alert identity.
ALERT_LABELS: dict[str, frozenset[str] | None] = {
    **ROUTE_LABELS,
    "entity_type": frozenset(EntityType),
    "institution_id": None,
    "entity_id": None,
    "dedup_key": None,
}
#: The sector an alert of unknown institution type is routed as (domain.md).
FEED_SECTORS: dict[str, str] = {
    Feed.TRADES: InstitutionType.TRADING_VENUE,
    Feed.GUARANTEES: InstitutionType.GUARANTEE,
}

_MATCHER = re.compile(r'^\s*([a-z_]+)\s*(=~|!~|!=|=)\s*(?:"(.*)"|(\S*))\s*$')


class Labelled(Protocol):
    """What matchers read from an alert."""

    @property
    def category(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def feed(self) -> str: ...
    @property
    def entity_type(self) -> str: ...
    @property
    def institution_type(self) -> str | None: ...
    @property
    def region_code(self) -> str | None: ...
    @property
    def institution_id(self) -> str | None: ...
    @property
    def entity_id(self) -> str: ...
    @property
    def dedup_key(self) -> str: ...


def alert_labels(alert: Labelled) -> dict[str, str]:
    """The label set matchers see; an unknown institution type is its feed's sector."""
    sector = alert.institution_type or FEED_SECTORS.get(str(alert.feed), "")
    return {
        "category": str(alert.category),
        "severity": str(alert.severity),
        "institution_type": str(sector),
        "region_code": alert.region_code or "",
        "feed": str(alert.feed),
        "entity_type": str(alert.entity_type),
        "institution_id": alert.institution_id or "",
        "entity_id": alert.entity_id,
        "dedup_key": alert.dedup_key,
    }


@dataclass(frozen=True, slots=True)
class Matcher:
    label: str
    op: str
    value: str
    pattern: re.Pattern[str] | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self.pattern is not None
        found = self.pattern.fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        return f'{self.label}{self.op}"{self.value}"'


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def parse_matcher(
    text: str, *, where: str, labels: Mapping[str, frozenset[str] | None] = ROUTE_LABELS
) -> Matcher:
    """Parse one matcher; ``RoutingConfigError`` names ``where`` (the route or rule) on error."""
    found = _MATCHER.match(text)
    if not found:
        raise RoutingConfigError(f'{where}: matcher {text!r} is not label="value" (=, !=, =~, !~)')
    label, op, quoted, bare = found.groups()
    value = quoted if quoted is not None else bare
    if label not in labels:
        raise RoutingConfigError(
            f"{where}: matcher {text!r}: unknown label {label!r} (one of {', '.join(labels)})"
        )
    allowed = labels[label]
    if op in ("=", "!="):
        if allowed is not None and value and value not in allowed:
            raise RoutingConfigError(f"{where}: matcher {text!r}: unknown {label} {value!r}")
        return Matcher(label, op, value)
    try:
        pattern = re.compile(value)
    except re.error as exc:
        raise RoutingConfigError(f"{where}: matcher {text!r}: bad regex: {exc}") from exc
    if allowed is not None and re.fullmatch(r"[a-z0-9_|]+", value):
        unknown = [v for v in value.split("|") if v and v not in allowed]
        if unknown:
            raise RoutingConfigError(
                f"{where}: matcher {text!r}: unknown {label} {', '.join(map(repr, unknown))}"
            )
    return Matcher(label, op, value, pattern)
