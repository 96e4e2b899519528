"""multi_lender_borrowing (多头借贷): one borrower takes new loans from many lenders at once.

A borrower who borrows from five or more institutions within a week is usually covering one debt
with the next; no single lender sees it, so the loans are re-keyed by ``borrower_id`` and judged
across lenders here (domain.md, Definitions).
"""

from __future__ import annotations

import bisect
from typing import Any

from models.categories import Category, DetectorKind, EntityType, Feed, Severity
from models.detector import Context, Detector, Partition
from models.events import Loan
from models.findings import Finding
from models.warmup import is_book_report

__all__ = ["MultiLenderBorrowing"]

_DAY = 86_400.0
# One entry of the state: [epoch seconds, lender id, loan id, principal, event id].
_T, _LENDER, _LOAN, _PRINCIPAL, _EVENT = range(5)


class MultiLenderBorrowing(Detector):
    """Category ``multi_lender_borrowing``: new loans from ``min_lenders`` lenders in a window.

    Only ``originated`` events are new borrowing: an ``extended`` event (term extension or
    rollover) moves an existing debt. The history's first hours re-report the existing book as
    ``originated``; an origination within ``warmup_hours`` of its lender's registry record (the
    record a history starts with) is such a re-report and is not counted. The window is
    inclusive: five lenders whose loans span exactly ``window_days`` are reported.

    Parameters (``params.multi_lender``)
    ----------
    min_lenders : int, default 5
        Distinct lenders within the window that make the finding.
    window_days : float, default 7
    warmup_hours : float, default 12
    max_loans : int, default 64
        Recent originations kept per borrower (oldest dropped first).

    Example: loans from lenders A, B, C, D on Monday and from E on the next Sunday report the
    borrower once, naming E's loan as the trigger; a later loan from F reports again (F's
    alert), a second loan from A does not.
    """

    feed = Feed.LOANS
    categories = (Category.MULTI_LENDER_BORROWING,)
    kind = DetectorKind.NETWORK
    name = "multi_lender_borrowing"
    partition = Partition.BORROWER
    namespace = "multi_lender_borrowing"

    def state_key(self, event: Loan) -> str | None:
        return event.borrower_id

    def detect(
        self, event: Loan, state: dict[str, Any] | None, ctx: Context
    ) -> tuple[dict[str, Any] | None, list[Finding]]:
        if event.event_type != "originated" or self._is_book_report(event, ctx):
            return state, []
        p = self.params.multi_lender
        window = p.window_days * _DAY
        loans: list[list[Any]] = state["loans"] if state else []
        t = event.event_time.timestamp()
        if any(
            entry[_LOAN] == event.loan_id and entry[_LENDER] == event.institution_id
            for entry in loans
        ):
            return state, []  # a redelivered event: at-least-once processing
        entry = [t, event.institution_id, event.loan_id, event.principal, event.event_id]
        bisect.insort(loans, entry, key=lambda e: e[_T])
        newest = loans[-1][_T]
        # Keep two windows back from the newest: late events can still complete a window.
        loans = [e for e in loans if e[_T] >= newest - 2 * window][-p.max_loans :]
        new_state = {"loans": loans}
        if not any(e is entry for e in loans):
            return new_state, []  # later than anything still kept: too late to judge
        window_loans = _window_completed_by(loans, entry, window, p.min_lenders)
        if window_loans is None:
            return new_state, []
        return new_state, [self._finding(event, window_loans, window)]

    def _is_book_report(self, event: Loan, ctx: Context) -> bool:
        return is_book_report(event, ctx.registry, self.params.multi_lender.warmup_hours)

    def _finding(self, event: Loan, window_loans: list[list[Any]], window: float) -> Finding:
        p = self.params.multi_lender
        lenders = sorted({e[_LENDER] for e in window_loans})
        count = len(lenders)
        excess = count - p.min_lenders
        severity = Severity.HIGH if count >= 2 * p.min_lenders else Severity.MEDIUM
        return Finding(
            category=Category.MULTI_LENDER_BORROWING,
            severity=severity,
            score=min(1.0, 0.6 + 0.1 * excess),
            feed=Feed.LOANS,
            entity_type=EntityType.BORROWER,
            entity_id=event.borrower_id,
            institution_id=event.institution_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence={
                "lenders": lenders,
                "lender_count": count,
                "min_lenders": p.min_lenders,
                "window_days": window / _DAY,
                "window_start": window_loans[0][_T],
                "window_end": window_loans[-1][_T],
                "total_principal": round(sum(e[_PRINCIPAL] for e in window_loans), 2),
                "loans": [
                    {
                        "loan_id": e[_LOAN],
                        "lender": e[_LENDER],
                        "principal": e[_PRINCIPAL],
                        "time": e[_T],
                    }
                    for e in window_loans
                ],
            },
            event_ids=tuple(e[_EVENT] for e in window_loans),
        )


def _window_completed_by(
    loans: list[list[Any]], entry: list[Any], window: float, min_lenders: int
) -> list[list[Any]] | None:
    """The loans of a window holding ``entry`` with ``min_lenders`` lenders, if its lender is new.

    A lender that already lent within a window's length of the entry was counted before, so it
    reports nothing. Otherwise every window start from ``window`` before the entry up to the
    entry itself is tried, so a loan that arrives late still completes the window it belongs
    to. ``loans`` is sorted by time.
    """
    t, lender = entry[_T], entry[_LENDER]
    times = [e[_T] for e in loans]
    lo = bisect.bisect_left(times, t - window)
    hi = bisect.bisect_right(times, t + window)
    if any(e[_LENDER] == lender and e is not entry for e in loans[lo:hi]):
        return None
    for i in range(lo, hi):
        start = times[i]
        if start > t:
            break
        members = [e for e in loans[i:hi] if e[_T] <= start + window]
        if len({e[_LENDER] for e in members}) >= min_lenders:
            return members
    return None
