"""Rebuild the running sums of exposure books from their positions, after a recovery.

The worker logs a book's keys to the changelog one record each (``models.book``), so a crash
while a flush is being written can keep a position's new balance and lose the summary or the
counterparty sum that the same event moved: the records of one flush do not reach the broker
atomically. Positions are *set*, never added to, so the replayed event then finds its position
already at the new balance, moves no sum, and the sums stay short for good: a limit breach the
replay should raise is missed (the crash test lost a ``guarantee_leverage`` alert this way).

Positions are the facts and every sum is derived from them, so once a book has been recovered
the worker rebuilds its sums here and writes back only the keys that disagree.

Example
-------
>>> from models.book import apply_position
>>> from models.state import DictStore, KeyedState
>>> store = DictStore()
>>> book = KeyedState(store, "lender_book")
>>> _ = apply_position(book, "FJ-1", "L1", "B1", 300.0, related=False, t=1.0)
>>> store.data["lender_book"]["FJ-1"]["total"] = 0.0  # the summary record was lost
>>> [(r.owner, r.changes) for r in repair_books(store.data["lender_book"].items())]
[('FJ-1', {'FJ-1': {'related': 0.0, 'total': 300.0, 'closings': 0}})]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from models.book import MAX_CLOSED
from models.state import SEP, StateRepair, sub_key

__all__ = ["repair_books"]

#: Sums are kept in cents: a difference beyond this is a lost record, not rounding.
_TOLERANCE = 0.01
_OPEN_FIELDS = 4


@dataclass
class _Book:
    summary: dict[str, Any] | None = None
    witness: str | None = None
    positions: int = 0
    total: float = 0.0
    related: float = 0.0
    closings: int = 0
    by_cp: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    stored_cp: dict[str, float] = field(default_factory=dict)
    closed: dict[int, str] = field(default_factory=dict)
    slots: dict[int, str] = field(default_factory=dict)


def repair_books(entries: Iterable[tuple[str, Any]]) -> list[StateRepair]:
    """The books of a namespace whose sums disagree with their positions, and the fixes.

    ``entries`` are the namespace's (key, value) pairs. A book still in the old one-value
    layout (split on its first read) is left alone.
    """
    books: dict[str, _Book] = defaultdict(_Book)
    for key, value in entries:
        _read(books, key, value)
    repairs = []
    for owner, book in books.items():
        if book.witness is None or (book.summary is not None and "book" in book.summary):
            continue
        changes = _summary_changes(owner, book) | _counterparty_changes(owner, book)
        changes |= _slot_changes(owner, book)
        if changes:
            repairs.append(StateRepair(owner, book.witness, changes))
    return repairs


def _read(books: dict[str, _Book], key: str, value: Any) -> None:
    parts = key.split(SEP, 2)
    if len(parts) == 1:
        if isinstance(value, dict):
            books[key].summary = value
            books[key].witness = books[key].witness or key
        return
    if len(parts) != 3:
        return
    owner, kind, rest = parts
    books[owner].witness = books[owner].witness or key
    if kind == "p" and isinstance(value, list):
        _read_position(books[owner], key, value)
    elif kind == "c" and isinstance(value, int | float):
        books[owner].stored_cp[rest] = float(value)
    elif kind == "k" and rest.isdigit():
        books[owner].slots[int(rest)] = value


def _read_position(book: _Book, key: str, entry: list[Any]) -> None:
    book.positions += 1
    if len(entry) >= _OPEN_FIELDS:
        outstanding, counterparty, related = float(entry[0]), str(entry[1]), bool(entry[2])
        book.total += outstanding
        book.by_cp[counterparty] += outstanding
        if related:
            book.related += outstanding
    elif len(entry) == 2:
        n = int(entry[1])
        book.closings = max(book.closings, n + 1)
        slot = n % MAX_CLOSED
        position_id = key.split(SEP, 2)[2]
        if slot not in book.closed or _number(book, slot) < n:
            book.closed[slot] = f"{n}{SEP}{position_id}"


def _number(book: _Book, slot: int) -> int:
    return int(book.closed[slot].split(SEP, 1)[0])


def _summary_changes(owner: str, book: _Book) -> dict[str, Any]:
    if book.summary is None and not book.positions:
        return {}
    stored = book.summary or {}
    total, related = round(book.total, 2), round(book.related, 2)
    closings = max(int(stored.get("closings", 0)), book.closings)
    if (
        book.summary is not None
        and _close(stored.get("total"), total)
        and _close(stored.get("related"), related)
        and stored.get("closings") == closings
    ):
        return {}
    return {owner: {**stored, "related": related, "total": total, "closings": closings}}


def _counterparty_changes(owner: str, book: _Book) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for counterparty in book.by_cp.keys() | book.stored_cp.keys():
        value = round(book.by_cp.get(counterparty, 0.0), 2)
        stored = book.stored_cp.get(counterparty)
        if value <= _TOLERANCE / 2:
            if stored is not None:
                changes[sub_key(owner, "c", counterparty)] = None
        elif not _close(stored, value):
            changes[sub_key(owner, "c", counterparty)] = value
    return changes


def _slot_changes(owner: str, book: _Book) -> dict[str, Any]:
    """A closing whose ring slot record was lost: point the slot at it again."""
    changes: dict[str, Any] = {}
    for slot, numbered in book.closed.items():
        if slot not in book.slots:
            changes[sub_key(owner, "k", str(slot))] = numbered.split(SEP, 1)[1]
    return changes


def _close(stored: Any, derived: float) -> bool:
    return isinstance(stored, int | float) and abs(float(stored) - derived) <= _TOLERANCE
