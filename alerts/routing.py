"""The routing tree (Alertmanager's shape), loaded from YAML and validated at start-up.

The root matches every alert; a child adds matchers (``label=value``, ``!=``, ``=~``, ``!~`` on
category, severity, institution_type, region_code, feed). The walk is depth-first: the first
matching child wins unless it says ``continue: true``; a node none of whose children match
delivers to its own receivers. Receivers and timers (group_by, group_wait, group_interval,
repeat_interval) are inherited from the parent. An alert whose institution type is unknown is
routed as the sector of its feed (trades -> trading_venue, guarantees -> guarantee).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alerts.errors import RoutingConfigError
from alerts.inhibition import InhibitRule, InhibitRuleSpec, compile_inhibit_rules
from alerts.matchers import (
    ROUTE_LABELS,
    Labelled,
    Matcher,
    alert_labels,
    matches_all,
    parse_matcher,
)

#: What ``group_by`` may name besides the matcher labels.
GROUP_LABELS = frozenset(ROUTE_LABELS) | {"institution_id", "entity_id", "dedup_key", "..."}
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


#: Kept for callers that speak of routing: the label set routes see.
Routable = Labelled
routing_labels = alert_labels


def parse_duration(value: Any) -> Any:
    """``30s``, ``5m``, ``4h``, ``1d``, ``1h30m`` (Prometheus style) -> timedelta."""
    if not isinstance(value, str):
        return value
    found = _DURATION.match(value.strip())
    if not value.strip() or not found:
        raise ValueError(f"duration must look like 30s, 5m, 4h or 1h30m, got {value!r}")
    days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


class ReceiverSpec(BaseModel):
    """A routing target with its stable id from domain.md."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    name: str = ""


class RouteSpec(BaseModel):
    """One node of the YAML tree, as written."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str | None = None
    matchers: list[str] = Field(default_factory=list)
    receivers: list[str] = Field(default_factory=list)
    continue_: bool = Field(default=False, alias="continue")
    group_by: list[str] | None = None
    group_wait: timedelta | None = None
    group_interval: timedelta | None = None
    repeat_interval: timedelta | None = None
    routes: list[RouteSpec] = Field(default_factory=list)

    @field_validator("group_wait", "group_interval", "repeat_interval", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> Any:
        return parse_duration(value)


class RoutingSpec(BaseModel):
    """The whole file: receivers, the root route and the inhibition rules."""

    model_config = ConfigDict(extra="forbid")
    receivers: list[ReceiverSpec] = Field(min_length=1)
    route: RouteSpec
    inhibit_rules: list[InhibitRuleSpec] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Route:
    """A compiled node: matchers parsed, receivers and timers resolved from its ancestors."""

    path: str
    matchers: tuple[Matcher, ...]
    receivers: tuple[str, ...]
    continue_: bool
    group_by: tuple[str, ...]
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta
    routes: tuple[Route, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return matches_all(self.matchers, labels)

    def group_key(self, alert: Routable) -> str:
        """The notification group of ``alert`` on this route (``...`` groups by the dedup key)."""
        labels = routing_labels(alert)
        if "..." in self.group_by:
            return f"{self.path}:{alert.dedup_key}"
        return self.path + ":" + ",".join(f"{k}={labels.get(k, '')}" for k in self.group_by)


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """One receiver an alert reaches, with the route (and so the timers) that sent it there."""

    receiver: str
    route: Route


def _walk(node: Route, labels: Mapping[str, str]) -> list[Route] | None:
    """Depth-first: the matching routes that deliver, or None when ``node`` does not match."""
    if not node.matches(labels):
        return None
    delivered: list[Route] = []
    for child in node.routes:
        found = _walk(child, labels)
        if found is None:
            continue
        delivered.extend(found)
        if not child.continue_:
            break
    return delivered or [node]


class RoutingTree:
    """The validated tree; ``route(alert)`` is pure and returns receiver ids in tree order."""

    def __init__(
        self,
        root: Route,
        receivers: Mapping[str, ReceiverSpec],
        inhibit_rules: tuple[InhibitRule, ...] = (),
    ) -> None:
        self.root = root
        self.receivers = dict(receivers)
        self.inhibit_rules = inhibit_rules

    @classmethod
    def from_file(cls, path: Path | str) -> RoutingTree:
        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise RoutingConfigError(f"{path}: cannot read the routing tree: {exc}") from exc
        except yaml.YAMLError as exc:
            raise RoutingConfigError(f"{path}: not valid YAML: {exc}") from exc
        return cls.from_dict(doc, source=str(path))

    @classmethod
    def from_dict(cls, doc: Any, *, source: str = "routing") -> RoutingTree:
        try:
            spec = RoutingSpec.model_validate(doc)
        except ValidationError as exc:
            problems = "; ".join(
                f"{_location(err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
            )
            raise RoutingConfigError(f"{source}: invalid routing tree: {problems}") from exc
        receivers: dict[str, ReceiverSpec] = {}
        for receiver in spec.receivers:
            if receiver.id in receivers:
                raise RoutingConfigError(f"{source}: receiver {receiver.id!r} is declared twice")
            receivers[receiver.id] = receiver
        root_spec = spec.route
        if root_spec.matchers:
            raise RoutingConfigError(f"{source}: route (the root) must match all: no matchers")
        if not root_spec.receivers:
            raise RoutingConfigError(f"{source}: route (the root) needs at least one receiver")
        defaults = Route(
            path="route",
            matchers=(),
            receivers=(),
            continue_=False,
            group_by=("category", "institution_id"),
            group_wait=timedelta(seconds=30),
            group_interval=timedelta(minutes=5),
            repeat_interval=timedelta(hours=4),
            routes=(),
        )
        root = _compile(root_spec, defaults, "route", receivers, source)
        return cls(root, receivers, compile_inhibit_rules(spec.inhibit_rules, source))

    def matches(self, alert: Routable) -> list[RouteMatch]:
        """Every (receiver, route) pair the alert reaches, first route first, no receiver twice."""
        seen: set[str] = set()
        found: list[RouteMatch] = []
        for node in _walk(self.root, routing_labels(alert)) or []:
            for receiver in node.receivers:
                if receiver not in seen:
                    seen.add(receiver)
                    found.append(RouteMatch(receiver, node))
        return found

    def route(self, alert: Routable) -> list[str]:
        return [m.receiver for m in self.matches(alert)]

    def targets(self, alert: Routable, receivers: Iterable[str]) -> list[tuple[str, str]]:
        """(receiver, notification group) pairs: the group of the route that reaches each
        receiver, or the root's for a receiver added outside the tree (an escalation)."""
        groups = {m.receiver: m.route.group_key(alert) for m in self.matches(alert)}
        fallback = self.root.group_key(alert)
        return [(r, groups.get(r, fallback)) for r in receivers]


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _compile(
    spec: RouteSpec, parent: Route, path: str, receivers: Mapping[str, ReceiverSpec], source: str
) -> Route:
    where = f"{source}: {path}" + (f" ({spec.name})" if spec.name else "")
    for receiver in spec.receivers:
        if receiver not in receivers:
            known = ", ".join(sorted(receivers))
            raise RoutingConfigError(f"{where}: unknown receiver {receiver!r} (declared: {known})")
    for label in spec.group_by or ():
        if label not in GROUP_LABELS:
            raise RoutingConfigError(f"{where}: cannot group by {label!r}")
    node = Route(
        path=path,
        matchers=tuple(parse_matcher(text, where=where) for text in spec.matchers),
        receivers=tuple(spec.receivers) or parent.receivers,
        continue_=spec.continue_,
        group_by=tuple(spec.group_by) if spec.group_by is not None else parent.group_by,
        group_wait=spec.group_wait or parent.group_wait,
        group_interval=spec.group_interval or parent.group_interval,
        repeat_interval=spec.repeat_interval or parent.repeat_interval,
        routes=(),
    )
    children = tuple(
        _compile(child, node, f"{path}.routes[{i}]", receivers, source)
        for i, child in enumerate(spec.routes)
    )
    return replace(node, routes=children)
