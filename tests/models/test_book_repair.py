"""Book sums rebuilt from positions: what a changelog flush cut short leaves wrong, only that."""

from __future__ import annotations

from typing import Any

from models.book import MAX_CLOSED, apply_position, counterparty_exposure, summary
from models.book_repair import repair_books
from models.state import DictStore, KeyedState, StateRepair, sub_key

OWNER = "FJ-GT-0008"


def book_with(*positions: tuple[str, str, float, bool]) -> tuple[KeyedState, dict[str, Any]]:
    """A guarantor book built by events: (position, counterparty, outstanding, related)."""
    store = DictStore()
    book = KeyedState(store, "guarantee_leverage")
    for t, (position, counterparty, outstanding, related) in enumerate(positions, 1):
        apply_position(book, OWNER, position, counterparty, outstanding, related=related, t=t)
    return book, store.data["guarantee_leverage"]


def repaired(data: dict[str, Any]) -> list[StateRepair]:
    fixes = repair_books(list(data.items()))
    for fix in fixes:
        for key, value in fix.changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
    return fixes


def test_a_consistent_book_needs_nothing() -> None:
    _, data = book_with(
        ("G1", "D1", 100.0, False), ("G2", "D1", 50.5, True), ("G3", "D2", 0, False)
    )
    assert repair_books(data.items()) == []


def test_a_lost_summary_record_is_rebuilt_from_the_positions() -> None:
    """The crash test's case: the last guarantees logged, the summary they moved not."""
    book, data = book_with(("G1", "D1", 100.0, False), ("G2", "D2", 40.0, True))
    data[OWNER] = {"related": 0.0, "total": 100.0, "closings": 0}  # as before G2

    [fix] = repaired(data)

    assert fix.owner == OWNER
    assert fix.witness in data
    assert summary(book, OWNER) == {"related": 40.0, "total": 140.0, "closings": 0}
    assert repair_books(data.items()) == []


def test_a_replayed_event_after_the_repair_sees_the_true_total() -> None:
    book, data = book_with(("G1", "D1", 100.0, False), ("G2", "D2", 40.0, False))
    data[OWNER] = {"related": 0.0, "total": 100.0, "closings": 0}
    repaired(data)

    change = apply_position(book, OWNER, "G2", "D2", 40.0, related=False, t=2)

    assert change.total == 140.0


def test_counterparty_sums_are_set_and_forgotten_to_match_the_positions() -> None:
    book, data = book_with(("G1", "D1", 100.0, False), ("G2", "D1", 25.0, False))
    del data[sub_key(OWNER, "c", "D1")]
    data[sub_key(OWNER, "c", "D9")] = 70.0  # a debtor whose closing record was lost

    [fix] = repaired(data)

    assert fix.changes == {sub_key(OWNER, "c", "D1"): 125.0, sub_key(OWNER, "c", "D9"): None}
    assert counterparty_exposure(book, OWNER, "D1") == 125.0
    assert counterparty_exposure(book, OWNER, "D9") == 0.0


def test_a_lost_closing_moves_the_count_and_points_its_ring_slot_again() -> None:
    book, data = book_with(("G1", "D1", 100.0, False), ("G1", "D1", 0.0, False))
    data[OWNER] = {"related": 0.0, "total": 100.0, "closings": 0}  # as before the closing
    del data[sub_key(OWNER, "k", "0")]

    repaired(data)

    assert summary(book, OWNER) == {"related": 0.0, "total": 0.0, "closings": 1}
    assert data[sub_key(OWNER, "k", "0")] == "G1"


def test_a_ring_slot_names_the_latest_closing_that_took_it() -> None:
    _, data = book_with(("G1", "D1", 1.0, False))
    data[sub_key(OWNER, "p", "G2")] = [1.0, 3]
    data[sub_key(OWNER, "p", "G3")] = [2.0, 3 + MAX_CLOSED]

    [fix] = repaired(data)

    assert fix.changes[sub_key(OWNER, "k", "3")] == "G3"
    assert data[OWNER]["closings"] == 4 + MAX_CLOSED


def test_sums_differing_by_rounding_alone_are_left_as_they_are() -> None:
    _, data = book_with(("G1", "D1", 0.1, False), ("G2", "D1", 0.2, False))
    data[OWNER]["total"] = 0.30000000000000004
    assert repair_books(data.items()) == []


def test_a_summary_counting_a_lost_position_is_brought_back_to_the_positions() -> None:
    """The summary logged, the new position not: the replay would otherwise count it twice."""
    book, data = book_with(("G1", "D1", 100.0, False), ("G2", "D2", 40.0, False))
    del data[sub_key(OWNER, "p", "G2")]

    repaired(data)
    change = apply_position(book, OWNER, "G2", "D2", 40.0, related=False, t=2)

    assert change.total == 140.0
    assert counterparty_exposure(book, OWNER, "D2") == 40.0


def test_an_owner_with_flags_alone_is_left_alone() -> None:
    data = {sub_key(OWNER, "f", OWNER): 1}
    assert repair_books(data.items()) == []


def test_a_book_in_the_old_whole_value_layout_is_left_for_its_first_read() -> None:
    data = {OWNER: {"book": {"pos": {}, "closed": {}, "by_cp": {}, "related": 0, "total": 9}}}
    data[sub_key(OWNER, "p", "G1")] = [5.0, "D1", 0, 1.0]
    assert repair_books(data.items()) == []
