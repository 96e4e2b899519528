"""unlicensed_activity: new business by an institution that may not do any.

Source: domain.md, Definitions. New business is a loan ``originated`` or ``extended``, a
guarantee ``issued``, or any trade on a venue; collecting repayments of an existing book is
lawful. It is unlicensed when the institution's latest record is ``suspended``, ``revoked`` or
``in_liquidation``, or when there is no record at all (the Office does not know it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from models.categories import Category, DetectorKind, EntityType, Feed, Severity
from models.detector import Context, Detector
from models.events import NEW_LOAN_BUSINESS, Guarantee, Loan, Trade
from models.findings import Finding

__all__ = ["UnlicensedGuaranteeing", "UnlicensedLending", "UnlicensedTrading"]

_UNKNOWN = "unknown"
#: Severity and score by the status the business was done under.
_GRADES: dict[str, tuple[Severity, float]] = {
    "revoked": (Severity.CRITICAL, 1.0),
    "in_liquidation": (Severity.CRITICAL, 0.95),
    "suspended": (Severity.HIGH, 0.85),
    _UNKNOWN: (Severity.HIGH, 0.8),
}
_DEFAULT_GRADE = (Severity.HIGH, 0.8)

Business = Loan | Guarantee | Trade


class _UnlicensedActivity(Detector):
    """Shared logic; subclasses say which events of their feed are new business and by whom.

    State (per key of the feed's partition) is the set of institutions with an open finding, so
    the first lawful new business after a licence is restored emits a ``cleared`` finding.

    Parameters (``params.licensing``)
    ----------
    blocked_statuses : tuple of str, default ("suspended", "revoked", "in_liquidation")
    unknown_is_unlicensed : bool, default True
        Business by an institution with no record is unlicensed.
    """

    categories = (Category.UNLICENSED_ACTIVITY,)
    kind = DetectorKind.RULE
    namespace: ClassVar[str | None]

    def is_new_business(self, event: Any) -> bool:
        return True

    def institution_of(self, event: Any) -> str:
        institution_id: str = event.institution_id
        return institution_id

    def business_figures(self, event: Any) -> dict[str, Any]:
        return {}

    def detect(
        self, event: Business, state: dict[str, int] | None, ctx: Context
    ) -> tuple[dict[str, int] | None, list[Finding]]:
        if not self.is_new_business(event):
            return state, []
        p = self.params.licensing
        institution_id = self.institution_of(event)
        record = ctx.registry.get(institution_id)
        if record is None:
            status = _UNKNOWN
            unlicensed = p.unknown_is_unlicensed
        else:
            status = record.license_status
            unlicensed = status in p.blocked_statuses
        flags = dict(state) if state else {}
        if not unlicensed and flags.pop(institution_id, None) is None:
            return state, []
        if unlicensed:
            flags[institution_id] = 1
        severity, score = _GRADES.get(status, _DEFAULT_GRADE)
        finding = Finding(
            category=Category.UNLICENSED_ACTIVITY,
            severity=severity if unlicensed else Severity.INFO,
            score=score if unlicensed else 0.0,
            feed=self.feed,
            entity_type=EntityType.INSTITUTION,
            entity_id=institution_id,
            institution_id=institution_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence={
                "rule": "unlicensed_activity",
                "version": self.params.version,
                "license_status": status,
                "blocked_statuses": list(p.blocked_statuses),
                "record_time": record.event_time.isoformat() if record is not None else None,
                **self.business_figures(event),
            },
            event_ids=(event.event_id,),
            cleared=not unlicensed,
        )
        return flags, [finding]


class UnlicensedLending(_UnlicensedActivity):
    """``unlicensed_activity`` on the loans feed: loans originated or extended by the lender."""

    feed = Feed.LOANS
    name = "unlicensed_lending"
    namespace = "unlicensed_lending"

    def state_key(self, event: Loan) -> str:
        return event.institution_id

    def is_new_business(self, event: Loan) -> bool:
        return event.event_type in NEW_LOAN_BUSINESS

    def business_figures(self, event: Loan) -> dict[str, Any]:
        return {
            "event_type": event.event_type,
            "loan_id": event.loan_id,
            "borrower_id": event.borrower_id,
            "principal": event.principal,
        }


class UnlicensedGuaranteeing(_UnlicensedActivity):
    """``unlicensed_activity`` on the guarantees feed: guarantees issued, by the reporter."""

    feed = Feed.GUARANTEES
    name = "unlicensed_guaranteeing"
    namespace = "unlicensed_guaranteeing"

    def state_key(self, event: Guarantee) -> str:
        return event.guarantor_id

    def is_new_business(self, event: Guarantee) -> bool:
        return event.event_type == "issued"

    def business_figures(self, event: Guarantee) -> dict[str, Any]:
        return {
            "event_type": event.event_type,
            "guarantee_id": event.guarantee_id,
            "guarantor_id": event.guarantor_id,
            "debtor_id": event.debtor_id,
            "amount": event.amount,
        }


class UnlicensedTrading(_UnlicensedActivity):
    """``unlicensed_activity`` on the trades feed: any trade is business of its venue."""

    feed = Feed.TRADES
    name = "unlicensed_trading"
    namespace = "unlicensed_trading"

    def state_key(self, event: Trade) -> str:
        return event.product_id

    def institution_of(self, event: Trade) -> str:
        return event.venue_id

    def business_figures(self, event: Trade) -> dict[str, Any]:
        return {
            "trade_id": event.trade_id,
            "product_id": event.product_id,
            "value": round(event.price * event.quantity, 2),
        }
