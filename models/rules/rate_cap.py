"""usurious_rate: a new loan priced above the judicially protected rate.

Source: Supreme People's Court private-lending provisions (2020 revision): the protected rate is
at most 4 × the one-year LPR at the contract date (12 % when LPR is 3.0 %).
"""

from __future__ import annotations

from typing import Any

from models.categories import Category, DetectorKind, EntityType, Feed
from models.detector import Context, Detector
from models.events import NEW_LOAN_BUSINESS, Loan
from models.findings import Finding
from models.rules._breach import (
    exceeds,
    finite_or_none,
    ratio_to_limit,
    score_for,
    severity_for,
)

__all__ = ["UsuriousRate"]


class UsuriousRate(Detector):
    """Category ``usurious_rate``: a loan's ``annual_rate`` above the cap, on new business.

    Only ``originated`` and ``extended`` events are checked: they set the price of a contract;
    a repayment does not. A rate exactly at the cap is lawful. Stateless: a contract's rate is a
    fact, so the finding never clears.

    Parameters (``params.rate_cap``)
    ----------
    lpr : float, default 0.030
        One-year loan prime rate at the contract date.
    multiplier : float, default 4.0
        Cap = ``multiplier`` × ``lpr`` (0.12).
    per_type : dict of str to float, default {}
        Cap per lender ``institution_type`` (from the lender's latest record), overriding it.

    Example: with the defaults a loan at 0.152 is reported (high, 1.27 × the cap); one at
    exactly 0.12 is not.
    """

    feed = Feed.LOANS
    categories = (Category.USURIOUS_RATE,)
    kind = DetectorKind.RULE
    name = "usurious_rate"

    def detect(self, event: Loan, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        if event.event_type not in NEW_LOAN_BUSINESS:
            return state, []
        p = self.params.rate_cap
        record = ctx.registry.get(event.institution_id)
        institution_type = record.institution_type if record is not None else None
        cap = p.cap_for(institution_type)
        if not exceeds(event.annual_rate, cap):
            return state, []
        ratio = ratio_to_limit(event.annual_rate, cap)
        finding = Finding(
            category=Category.USURIOUS_RATE,
            severity=severity_for(ratio),
            score=score_for(ratio),
            feed=Feed.LOANS,
            entity_type=EntityType.LOAN,
            entity_id=event.loan_id,
            institution_id=event.institution_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence={
                "rule": self.name,
                "version": self.params.version,
                "annual_rate": event.annual_rate,
                "limit": cap,
                "lpr": p.lpr,
                "multiplier": p.multiplier,
                "cap_source": "per_type" if institution_type in p.per_type else "lpr",
                "institution_type": institution_type,
                "ratio": finite_or_none(ratio),
                "event_type": event.event_type,
                "principal": event.principal,
                "borrower_id": event.borrower_id,
            },
            event_ids=(event.event_id,),
        )
        return state, [finding]
