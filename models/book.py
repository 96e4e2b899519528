"""Exposure books: what one lender or guarantor has outstanding, per position and per counterparty.

A book is a JSON-able dict, so a Faust table, a backtest dict or an ML feature loop can hold it.
Feed events report the balance *after* the event (``outstanding``), so applying an event sets a
position rather than adding to it: a redelivered event changes nothing. Running sums (per
counterparty, related parties, total) are kept alongside the positions so a check costs O(1)
per event, never a scan of the book (domain.md, Definitions: exposure to a borrower or debtor is
the sum of its outstanding balances at that lender or guarantor).

Layout::

    {"pos": {position_id: [outstanding, counterparty_id, related (0/1), epoch seconds]},
     "closed": {position_id: epoch seconds},     # recently closed positions, oldest first
     "by_cp": {counterparty_id: outstanding},    # only counterparties with a balance
     "related": float, "total": float}

Example
-------
>>> book = new_book()
>>> change = apply_position(book, "L1", "B1", 300.0, related=True, t=1.0)
>>> change.exposure, change.related_total, book["total"]
(300.0, 300.0, 300.0)
>>> apply_position(book, "L1", "B1", 0.0, related=True, t=2.0).exposure
0.0
"""

from __future__ import annotations

from typing import Any, NamedTuple

from models.events import Guarantee, Loan

__all__ = [
    "MAX_CLOSED",
    "ExposureChange",
    "apply_guarantee",
    "apply_loan",
    "apply_position",
    "counterparty_exposure",
    "is_own_guarantee",
    "new_book",
]

#: Closed positions remembered so a late, older event cannot reopen them (oldest dropped first).
MAX_CLOSED = 4096
#: Loan events after which nothing is owed to the lender any more.
_CLOSING_LOAN_EVENTS = frozenset({"written_off"})
_OUT, _CP, _REL, _T = range(4)
_CENT = 0.005


class ExposureChange(NamedTuple):
    """What applying one event did to a book; the figures are after the event.

    ``applied`` is False when the event is older than what the book already holds for the
    position (an out-of-order event): the book is unchanged and the figures are current.
    ``related_touched`` says the position is, or was before the event, a related-party one.
    A named tuple, not a dataclass: one is built per event, and tuples are cheap to build.
    """

    counterparty: str
    exposure: float
    previous_exposure: float
    related_total: float
    previous_related_total: float
    related_touched: bool
    total: float
    previous_total: float
    applied: bool


def new_book() -> dict[str, Any]:
    """An empty book."""
    return {"pos": {}, "closed": {}, "by_cp": {}, "related": 0.0, "total": 0.0}


def counterparty_exposure(book: dict[str, Any], counterparty: str) -> float:
    """Outstanding of one borrower or debtor in the book."""
    value: float = book["by_cp"].get(counterparty, 0.0)
    return value


def apply_position(
    book: dict[str, Any],
    position_id: str,
    counterparty: str,
    outstanding: float,
    *,
    related: bool,
    t: float,
) -> ExposureChange:
    """Set a position's balance as of time ``t`` and update the running sums in place.

    An event older than the position's last one (or than its closing) is ignored. A balance of
    zero closes the position; it is remembered among the ``MAX_CLOSED`` most recent closings.
    """
    positions: dict[str, list[Any]] = book["pos"]
    closed: dict[str, float] = book["closed"]
    by_cp: dict[str, float] = book["by_cp"]
    old = positions.get(position_id)
    before_cp = by_cp.get(counterparty, 0.0)
    before_rel = book["related"]
    before_total = book["total"]
    stale = (old is not None and t < old[_T]) or (
        old is None and position_id in closed and t < closed[position_id]
    )
    was_related = bool(old[_REL]) if old is not None else False
    if stale:
        return ExposureChange(
            counterparty,
            before_cp,
            before_cp,
            before_rel,
            before_rel,
            related or was_related,
            before_total,
            before_total,
            applied=False,
        )
    if old is not None:
        _add(book, old[_CP], -old[_OUT], bool(old[_REL]))
    if outstanding > _CENT:
        positions[position_id] = [outstanding, counterparty, int(related), t]
        closed.pop(position_id, None)
        _add(book, counterparty, outstanding, related)
    else:
        positions.pop(position_id, None)
        closed.pop(position_id, None)
        closed[position_id] = t
        if len(closed) > MAX_CLOSED:
            del closed[next(iter(closed))]
    return ExposureChange(
        counterparty=counterparty,
        exposure=by_cp.get(counterparty, 0.0),
        previous_exposure=before_cp,
        related_total=book["related"],
        previous_related_total=before_rel,
        related_touched=related or was_related,
        total=book["total"],
        previous_total=before_total,
        applied=True,
    )


def apply_loan(book: dict[str, Any], loan: Loan) -> ExposureChange:
    """Apply a loan event to its lender's book (position = loan, counterparty = borrower).

    A ``written_off`` loan leaves the book whatever balance it reports: nothing is owed to the
    lender any more.
    """
    outstanding = 0.0 if loan.event_type in _CLOSING_LOAN_EVENTS else loan.outstanding
    return apply_position(
        book,
        loan.loan_id,
        loan.borrower_id,
        outstanding,
        related=loan.related_party,
        t=loan.event_time.timestamp(),
    )


def apply_guarantee(book: dict[str, Any], guarantee: Guarantee) -> ExposureChange:
    """Apply a guarantee event to its guarantor's book (position = guarantee, cp = debtor)."""
    return apply_position(
        book,
        guarantee.guarantee_id,
        guarantee.debtor_id,
        guarantee.outstanding,
        related=guarantee.debtor_related_party,
        t=guarantee.event_time.timestamp(),
    )


def is_own_guarantee(guarantee: Guarantee) -> bool:
    """A financing guarantee the guarantee company reports itself: what its limits count.

    Lenders also report enterprise guarantees they hold; counting only the guarantor's own
    reports keeps a guarantee from being counted twice.
    """
    return (
        guarantee.guarantor_type == "guarantee_company"
        and guarantee.institution_id == guarantee.guarantor_id
    )


def _add(book: dict[str, Any], counterparty: str, amount: float, related: bool) -> None:
    """Move the running sums by ``amount``; amounts have at most 2 decimals, so round to cents."""
    by_cp: dict[str, float] = book["by_cp"]
    value = round(by_cp.get(counterparty, 0.0) + amount, 2)
    if value > _CENT:
        by_cp[counterparty] = value
    else:
        by_cp.pop(counterparty, None)
    if related:
        book["related"] = max(0.0, round(book["related"] + amount, 2))
    book["total"] = max(0.0, round(book["total"] + amount, 2))
