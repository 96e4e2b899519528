"""Exposure books: what one lender or guarantor has outstanding, per position and per counterparty.

A book lives in a ``KeyedState`` as small keys under its owner's id, so no value grows with
the book (a lender's 100,000 loans are 100,000 keys, never one record), and the worker logs
only the keys an event changed. Feed events report the balance *after* the event
(``outstanding``), so applying an event sets a position rather than adding to it: a
redelivered event changes nothing. Running sums (per counterparty, related parties, total) are
kept alongside the positions so a check costs O(1) per event, never a scan of the book
(domain.md, Definitions: exposure to a borrower or debtor is the sum of its outstanding balances
at that lender or guarantor).

Keys (``owner`` = lender or guarantor id; ids never contain ``|``)::

    owner              {"related": float, "total": float, "closings": int}   the summary
    owner|p|position   [outstanding, counterparty_id, related (0/1), epoch seconds, event id]
                                                                              open
                       [epoch seconds, closing number]        closed, remembered (see below)
    owner|c|cp         outstanding of one counterparty (only while it has a balance)
    owner|k|n          the position closed with number ≡ n (mod MAX_CLOSED)

The ``MAX_CLOSED`` most recent closings are remembered, so a late, older event cannot reopen
them: closing number *n* takes ring slot *n* mod ``MAX_CLOSED``, and the position in the slot
before it is forgotten if it is still closed under that number.

Example
-------
>>> from models.state import DictStore, KeyedState
>>> book = KeyedState(DictStore(), "lender_book")
>>> change = apply_position(book, "FJ-1", "L1", "B1", 300.0, related=True, t=1.0)
>>> change.exposure, change.related_total, change.total
(300.0, 300.0, 300.0)
>>> apply_position(book, "FJ-1", "L1", "B1", 0.0, related=True, t=2.0).exposure
0.0
"""

from __future__ import annotations

from typing import Any, NamedTuple

from models.events import Guarantee, Loan
from models.state import KeyedState, sub_key

__all__ = [
    "MAX_CLOSED",
    "ExposureChange",
    "apply_guarantee",
    "apply_loan",
    "apply_position",
    "counterparty_exposure",
    "is_own_guarantee",
    "summary",
]

#: Closed positions remembered so a late, older event cannot reopen them (oldest dropped first).
MAX_CLOSED = 4096
#: Loan events after which nothing is owed to the lender any more.
_CLOSING_LOAN_EVENTS = frozenset({"written_off"})
_OUT, _CP, _REL, _T, _EVENT = range(5)
_CLOSED_T, _CLOSED_N = range(2)
_CENT = 0.005


class ExposureChange(NamedTuple):
    """What applying one event did to a book; the figures are after the event.

    ``applied`` is False when the event is older than what the book already holds for the
    position (an out-of-order event): the book is unchanged and the figures are current.
    ``repeat`` is True when the book already holds exactly this event's effect (the position at
    this balance as of this time): a redelivery, typically the replay after a crash of an event
    whose state had reached the changelog. The book is unchanged either way, and a limit rule
    does not judge such an event: a repeat's findings were sent before its state was logged, and
    judging either now would weigh an old event against the totals of events after it (a
    breach dated before it happened).
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
    repeat: bool = False


def summary(state: KeyedState, owner: str) -> dict[str, Any]:
    """The owner's running totals (a fresh one for an empty book); ``set`` it after changing it.

    A book still in the layout of one value per owner (state written before books were keyed)
    is split into keys on first read.
    """
    found: dict[str, Any] | None = state.get(owner)
    if found is not None and "book" in found:
        found = _split_whole_book(state, owner, found)
    return found if found is not None else {"related": 0.0, "total": 0.0, "closings": 0}


def counterparty_exposure(state: KeyedState, owner: str, counterparty: str) -> float:
    """Outstanding of one borrower or debtor in the owner's book."""
    value: float | None = state.get(sub_key(owner, "c", counterparty))
    return value if value is not None else 0.0


def apply_position(
    state: KeyedState,
    owner: str,
    position_id: str,
    counterparty: str,
    outstanding: float,
    *,
    related: bool,
    t: float,
    event_id: str | None = None,
) -> ExposureChange:
    """Set a position's balance as of time ``t`` and update the running sums.

    An event older than the position's last one (or than its closing) is ignored. A balance of
    zero closes the position; it is remembered among the ``MAX_CLOSED`` most recent closings.
    """
    totals = summary(state, owner)  # first: it may split an old whole-book value into keys
    pos_key = sub_key(owner, "p", position_id)
    entry: list[Any] | None = state.get(pos_key)
    is_open = entry is not None and len(entry) > _CLOSED_N + 1
    old = entry if is_open else None
    before_cp = counterparty_exposure(state, owner, counterparty)
    before_rel: float = totals["related"]
    before_total: float = totals["total"]
    was_related = bool(old[_REL]) if old is not None else False
    stale = entry is not None and t < (entry[_T] if is_open else entry[_CLOSED_T])
    repeat = entry is not None and _holds(entry, is_open, event_id, outstanding, t)
    if stale or repeat:
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
            repeat=repeat,
        )
    if old is not None:
        _add(state, owner, totals, old[_CP], -old[_OUT], bool(old[_REL]))
    if outstanding > _CENT:
        state.set(pos_key, [outstanding, counterparty, int(related), t, event_id])
        _add(state, owner, totals, counterparty, outstanding, related)
    else:
        _close(state, owner, totals, position_id, t)
    state.set(owner, totals)
    return ExposureChange(
        counterparty=counterparty,
        exposure=counterparty_exposure(state, owner, counterparty),
        previous_exposure=before_cp,
        related_total=totals["related"],
        previous_related_total=before_rel,
        related_touched=related or was_related,
        total=totals["total"],
        previous_total=before_total,
        applied=True,
    )


def _holds(
    entry: list[Any], is_open: bool, event_id: str | None, outstanding: float, t: float
) -> bool:
    """True when a position entry already is this event's effect: the open position it set (same
    event id, balance and time), or its closing (same time, nothing outstanding)."""
    if is_open:
        return bool(
            event_id is not None
            and len(entry) > _EVENT
            and entry[_EVENT] == event_id
            and entry[_T] == t
            and abs(entry[_OUT] - outstanding) < _CENT
        )
    return bool(entry[_CLOSED_T] == t and outstanding <= _CENT)


def apply_loan(state: KeyedState, loan: Loan) -> ExposureChange:
    """Apply a loan event to its lender's book (position = loan, counterparty = borrower).

    A ``written_off`` loan leaves the book whatever balance it reports: nothing is owed to the
    lender any more.
    """
    outstanding = 0.0 if loan.event_type in _CLOSING_LOAN_EVENTS else loan.outstanding
    return apply_position(
        state,
        loan.institution_id,
        loan.loan_id,
        loan.borrower_id,
        outstanding,
        related=loan.related_party,
        t=loan.event_time.timestamp(),
        event_id=loan.event_id,
    )


def apply_guarantee(state: KeyedState, guarantee: Guarantee) -> ExposureChange:
    """Apply a guarantee event to its guarantor's book (position = guarantee, cp = debtor)."""
    return apply_position(
        state,
        guarantee.guarantor_id,
        guarantee.guarantee_id,
        guarantee.debtor_id,
        guarantee.outstanding,
        related=guarantee.debtor_related_party,
        t=guarantee.event_time.timestamp(),
        event_id=guarantee.event_id,
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


def _split_whole_book(state: KeyedState, owner: str, old: dict[str, Any]) -> dict[str, Any]:
    """Write an old whole-book value (``{"book": {pos, closed, by_cp, related, total},
    "flags": {...}}``) as keys; its breach flags become ``owner|f|flag`` keys."""
    book = old["book"]
    for position_id, entry in book["pos"].items():
        state.set(sub_key(owner, "p", position_id), list(entry))
    for n, (position_id, t) in enumerate(book["closed"].items()):
        state.set(sub_key(owner, "p", position_id), [t, n])
        state.set(sub_key(owner, "k", str(n % MAX_CLOSED)), position_id)
    for counterparty, value in book["by_cp"].items():
        state.set(sub_key(owner, "c", counterparty), value)
    for flag in old.get("flags", {}):
        state.set(sub_key(owner, "f", flag), 1)
    totals = {"related": book["related"], "total": book["total"], "closings": len(book["closed"])}
    state.set(owner, totals)
    return totals


def _close(
    state: KeyedState, owner: str, totals: dict[str, Any], position_id: str, t: float
) -> None:
    """Remember the closing as number ``n``; forget the one ``MAX_CLOSED`` closings before it."""
    n: int = totals["closings"]
    totals["closings"] = n + 1
    slot = sub_key(owner, "k", str(n % MAX_CLOSED))
    evicted: str | None = state.get(slot)
    if evicted is not None and evicted != position_id:
        evicted_key = sub_key(owner, "p", evicted)
        entry = state.get(evicted_key)
        if entry is not None and len(entry) == _CLOSED_N + 1 and entry[_CLOSED_N] == n - MAX_CLOSED:
            state.delete(evicted_key)
    state.set(slot, position_id)
    state.set(sub_key(owner, "p", position_id), [t, n])


def _add(
    state: KeyedState,
    owner: str,
    totals: dict[str, Any],
    counterparty: str,
    amount: float,
    related: bool,
) -> None:
    """Move the running sums by ``amount``; amounts have at most 2 decimals, so round to cents."""
    cp_key = sub_key(owner, "c", counterparty)
    current: float | None = state.get(cp_key)
    value = round((current if current is not None else 0.0) + amount, 2)
    if value > _CENT:
        state.set(cp_key, value)
    elif current is not None:
        state.delete(cp_key)
    if related:
        totals["related"] = max(0.0, round(totals["related"] + amount, 2))
    totals["total"] = max(0.0, round(totals["total"] + amount, 2))
