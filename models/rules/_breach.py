"""How far over a limit: the one severity and score scale, and the finding, of every limit rule.

A value exactly at a limit is lawful (domain.md, Definitions); float products such as
0.1 × 236,000,000 are compared with a relative tolerance so "exactly at" stays lawful.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, NamedTuple

from models.categories import Category, EntityType, Feed, Severity
from models.findings import DetectorRef, Finding
from models.state import KeyedState, sub_key

__all__ = [
    "Breach",
    "exceeds",
    "finite_or_none",
    "flag_transition",
    "keyed_flag_transition",
    "limit_finding",
    "ratio_to_limit",
    "score_for",
    "severity_for",
]

_TOLERANCE = 1e-13


def exceeds(value: float, limit: float) -> bool:
    """True when ``value`` is above ``limit``; a value at the limit (to rounding) is lawful."""
    return value > limit + abs(limit) * _TOLERANCE


def ratio_to_limit(value: float, limit: float) -> float:
    """``value / limit``; infinite when the limit is zero or negative (e.g. negative net assets)."""
    if limit <= 0:
        return math.inf
    return value / limit


def severity_for(ratio: float) -> Severity:
    """Up to 1.2 × the limit medium, up to 2 × high, beyond critical."""
    if ratio <= 1.2:
        return Severity.MEDIUM
    if ratio <= 2.0:
        return Severity.HIGH
    return Severity.CRITICAL


def score_for(ratio: float) -> float:
    """``1 - 0.5 / ratio``: 0.5 at the limit, 0.75 at twice it, tending to 1."""
    if ratio <= 1.0:
        return 0.5
    return min(1.0, 1.0 - 0.5 / ratio)


def finite_or_none(value: float) -> float | None:
    """JSON has no infinity: evidence carries None for an unbounded ratio."""
    return round(value, 6) if math.isfinite(value) else None


class Breach(NamedTuple):
    """An observed exposure against a limit set as ``share`` × a base figure of a record.

    ``base`` may be zero or negative (an insolvent firm): then any positive exposure breaks the
    limit and the ratios are unbounded.
    """

    observed: float
    share: float
    base_name: str
    base: float

    @property
    def limit_amount(self) -> float:
        return self.share * self.base

    @property
    def breached(self) -> bool:
        return self.observed > 0 and exceeds(self.observed, self.limit_amount)

    @property
    def ratio_to_limit(self) -> float:
        return ratio_to_limit(self.observed, self.limit_amount)

    def evidence(self, observed_key: str) -> dict[str, Any]:
        """The observed value, the limit (share and amount), the base figure and the ratios."""
        ratio = self.observed / self.base if self.base > 0 else math.inf
        return {
            observed_key: self.observed,
            self.base_name: self.base,
            "base": self.base_name,
            "limit": self.share,
            "limit_amount": round(self.limit_amount, 2),
            "ratio": finite_or_none(ratio),
            "ratio_to_limit": finite_or_none(self.ratio_to_limit),
        }


def limit_finding(
    *,
    breach: Breach,
    observed_key: str,
    category: Category,
    feed: Feed,
    entity_type: EntityType,
    entity_id: str,
    institution_id: str,
    event_id: str,
    event_time: datetime,
    detector: DetectorRef,
    extra: dict[str, Any],
) -> Finding:
    """The finding for a breach, or the ``cleared`` finding when the exposure is back in limits.

    Both carry the same identity and the current figures, so the alert can resolve with them.
    """
    cleared = not breach.breached
    ratio = breach.ratio_to_limit
    evidence = {"rule": detector.name, "version": detector.version}
    evidence.update(breach.evidence(observed_key))
    evidence.update(extra)
    return Finding(
        category=category,
        severity=Severity.INFO if cleared else severity_for(ratio),
        score=0.0 if cleared else score_for(ratio),
        feed=feed,
        entity_type=entity_type,
        entity_id=entity_id,
        institution_id=institution_id,
        event_time=event_time,
        detector=detector,
        evidence=evidence,
        event_ids=(event_id,),
        cleared=cleared,
    )


def flag_transition(flags: dict[str, int], key: str, breached: bool) -> bool:
    """Update the set of open breaches; True when a finding is due (breach, or just cleared)."""
    if breached:
        flags[key] = 1
        return True
    return flags.pop(key, None) is not None


def keyed_flag_transition(state: KeyedState, owner: str, flag: str, breached: bool) -> bool:
    """``flag_transition`` for keyed state: an open breach is the key ``owner|f|flag``."""
    key = sub_key(owner, "f", flag)
    if breached:
        if state.get(key) is None:
            state.set(key, 1)
        return True
    if state.get(key) is None:
        return False
    state.delete(key)
    return True
