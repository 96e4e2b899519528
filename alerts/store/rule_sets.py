"""Rule sets stored through the admin API: every version kept, one active, each change audited.

A rule set is the YAML text of a rules file (``deploy/config/rules.yaml``'s format), checked
by the same loader the worker uses (``models.rules_file.parse_rules``) before it is stored, so
an invalid set never reaches the store. Saving a text different from the active one stores a
new version and activates it; ``activate`` makes an older version active again (rollback).
The worker runs the active set in preference to its rules file; findings carry the set's
``stamp`` (its declared ``version`` plus ``+store.<version_id>``), so an alert names the exact
stored version that raised it.

Example
-------
>>> with Session(writer(engine)) as session, session.begin():  # doctest: +SKIP
...     saved = RuleSets(session).save(text, actor="key:8bd2", comment="LPR cut", now=now)
>>> saved.rule_set.stamp  # doctest: +SKIP
'2026-12+store.3'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from alerts.alert import utc
from alerts.errors import AlertsError
from alerts.store.tables import rule_set_history, rule_sets
from models import DetectorParams
from models.rules_file import RuleError, RulesFileError, parse_rules

__all__ = [
    "MAX_DECLARED_VERSION",
    "MAX_DEPTH",
    "RuleSet",
    "RuleSetChange",
    "RuleSetNotFound",
    "RuleSets",
    "SavedRuleSet",
    "stamp",
]

#: Characters of a stored set's declared ``version``: with ``+store.<id>`` appended it must fit
#: the alert store's ``detector_version`` column (40).
MAX_DECLARED_VERSION = 24
#: Nesting a stored rule set may use (the deepest section of a rules file uses 4).
MAX_DEPTH = 16
_OPENING = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


class RuleSetNotFound(AlertsError, LookupError):
    """No stored rule set has the given version id."""


def stamp(declared_version: str, version_id: int) -> str:
    """The version findings carry for a stored rule set: ``<declared>+store.<version_id>``."""
    return f"{declared_version}+store.{version_id}"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One stored version of the rules."""

    version_id: int
    declared_version: str
    yaml: str
    sha256: str
    created_by: str
    comment: str
    created_at: datetime
    active: bool
    activated_at: datetime | None = None
    activated_by: str | None = None

    @property
    def stamp(self) -> str:
        return stamp(self.declared_version, self.version_id)

    def params(self) -> DetectorParams:
        """The detector parameters, versioned with ``stamp``; ``RulesFileError`` if invalid."""
        parsed = parse_rules(self.yaml, source=f"rule set {self.version_id}")
        return parsed.model_copy(update={"version": self.stamp})


@dataclass(frozen=True, slots=True)
class RuleSetChange:
    """One line of the rules audit trail (``created``, ``activated``)."""

    id: int
    version_id: int
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SavedRuleSet:
    """The active rule set after ``save``; ``changed`` is False when the text was the same."""

    rule_set: RuleSet
    changed: bool


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def validate(text: str, *, source: str = "<rule set>") -> DetectorParams:
    """The worker's validation, plus what a stored set must also respect.

    Anchors and aliases are refused: a 300-byte YAML of nested aliases expands to millions of
    values (and a validation message of tens of megabytes); no rules file needs them. So is
    nesting deeper than ``MAX_DEPTH`` (the YAML loader recurses once per level). The declared
    ``version`` is limited to ``MAX_DECLARED_VERSION`` characters.
    """
    _refuse_expanding_yaml(text, source)
    params = parse_rules(text, source=source)
    if len(params.version) > MAX_DECLARED_VERSION:
        message = f"at most {MAX_DECLARED_VERSION} characters (got {len(params.version)})"
        raise RulesFileError(source, [RuleError(_version_line(text), "version", message)])
    return params


def _refuse_expanding_yaml(text: str, source: str) -> None:
    depth = 0
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, _OPENING):
                depth += 1
            elif isinstance(token, _CLOSING):
                depth -= 1
            line = token.start_mark.line + 1
            if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
                message = "anchors and aliases (& and *) are not accepted"
                raise RulesFileError(source, [RuleError(line, "(yaml)", message)])
            if depth > MAX_DEPTH:
                message = f"nested deeper than {MAX_DEPTH} levels"
                raise RulesFileError(source, [RuleError(line, "(yaml)", message)])
    except yaml.MarkedYAMLError:
        return  # parse_rules names the syntax error and its line


def _version_line(text: str) -> int | None:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if isinstance(root, yaml.MappingNode):
        for key, _ in root.value:
            if key.value == "version":
                line: int = key.start_mark.line + 1
                return line
    return None


def _rule_set(row: Any) -> RuleSet:
    m = row._mapping
    return RuleSet(
        version_id=m["version_id"],
        declared_version=m["declared_version"],
        yaml=m["yaml"],
        sha256=m["sha256"],
        created_by=m["created_by"],
        comment=m["comment"],
        created_at=m["created_at"],
        active=bool(m["active"]),
        activated_at=m["activated_at"],
        activated_by=m["activated_by"],
    )


class RuleSets:
    """Store, list, activate and audit rule sets in the caller's session (and transaction).

    Writes belong in a ``writer(engine)`` session inside ``session.begin()``: the new version,
    the switch of the active flag and the audit lines commit together or not at all.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def active(self) -> RuleSet | None:
        row = self.session.execute(select(rule_sets).where(rule_sets.c.active)).first()
        return _rule_set(row) if row is not None else None

    def get(self, version_id: int) -> RuleSet:
        query = select(rule_sets).where(rule_sets.c.version_id == version_id)
        row = self.session.execute(query).first()
        if row is None:
            raise RuleSetNotFound(f"no rule set version {version_id}")
        return _rule_set(row)

    def page(self, *, limit: int, before: int | None = None) -> list[RuleSet]:
        """Versions newest first, at most ``limit``, older than version ``before`` if given."""
        query = select(rule_sets).order_by(rule_sets.c.version_id.desc()).limit(limit)
        if before is not None:
            query = query.where(rule_sets.c.version_id < before)
        return [_rule_set(r) for r in self.session.execute(query)]

    def save(self, text: str, *, actor: str, comment: str, now: datetime) -> SavedRuleSet:
        """Validate ``text`` and make it the active rule set (a new version).

        The same text as the active set changes nothing (``changed`` False). Raises
        ``RulesFileError`` naming each bad key with its line; nothing is stored then.
        """
        params = validate(text)
        sha = digest(text)
        current = self.active()
        if current is not None and current.sha256 == sha:
            return SavedRuleSet(current, changed=False)
        at = utc(now)
        version_id = self.session.execute(
            insert(rule_sets)
            .values(
                declared_version=params.version,
                yaml=text,
                sha256=sha,
                created_by=actor,
                comment=comment,
                created_at=at,
                active=False,
            )
            .returning(rule_sets.c.version_id)
        ).scalar_one()
        self._audit(version_id, actor=actor, action="created", at=at, comment=comment, sha=sha)
        return SavedRuleSet(self._activate(version_id, current, actor, comment, at), changed=True)

    def activate(self, version_id: int, *, actor: str, comment: str, now: datetime) -> SavedRuleSet:
        """Make a stored version the active one (rollback); already active changes nothing."""
        target = self.get(version_id)
        if target.active:
            return SavedRuleSet(target, changed=False)
        target.params()  # stored sets were validated; a set that no longer parses stays put
        current = self.active()
        return SavedRuleSet(
            self._activate(version_id, current, actor, comment, utc(now)), changed=True
        )

    def history(self, version_id: int | None = None, *, limit: int = 100) -> list[RuleSetChange]:
        """Audit lines, newest first (of one version when ``version_id`` is given)."""
        query = select(rule_set_history).order_by(rule_set_history.c.id.desc()).limit(limit)
        if version_id is not None:
            query = query.where(rule_set_history.c.version_id == version_id)
        return [
            RuleSetChange(
                id=r.id,
                version_id=r.version_id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                detail=dict(r.detail),
            )
            for r in self.session.execute(query)
        ]

    def _activate(
        self, version_id: int, current: RuleSet | None, actor: str, comment: str, at: datetime
    ) -> RuleSet:
        if current is not None:
            self.session.execute(
                update(rule_sets)
                .where(rule_sets.c.version_id == current.version_id)
                .values(active=False)
            )
        self.session.execute(
            update(rule_sets)
            .where(rule_sets.c.version_id == version_id)
            .values(active=True, activated_at=at, activated_by=actor)
        )
        previous = current.version_id if current is not None else None
        self._audit(
            version_id, actor=actor, action="activated", at=at, comment=comment, previous=previous
        )
        return self.get(version_id)

    def _audit(
        self, version_id: int, *, actor: str, action: str, at: datetime, **detail: Any
    ) -> None:
        self.session.execute(
            insert(rule_set_history).values(
                version_id=version_id, at=at, actor=actor, action=action, detail=detail
            )
        )
