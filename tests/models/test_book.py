"""Exposure books: balances set by events, running sums, out-of-order and closed positions."""

from __future__ import annotations

import json

from models.book import (
    MAX_CLOSED,
    apply_guarantee,
    apply_loan,
    apply_position,
    counterparty_exposure,
    is_own_guarantee,
    summary,
)
from models.state import DictStore, KeyedState
from tests.models.rules._make import guarantee, loan

LENDER = "FJ-MC-0001"


def new_book() -> tuple[KeyedState, DictStore]:
    store = DictStore()
    return KeyedState(store, "lender_book"), store


def total(book: KeyedState, owner: str = LENDER) -> float:
    value: float = summary(book, owner)["total"]
    return value


def test_exposure_sums_the_borrowers_outstanding_loans() -> None:
    book, _ = new_book()
    apply_loan(book, loan("L1", outstanding=300.0))
    change = apply_loan(book, loan("L2", outstanding=200.5))
    apply_loan(book, loan("L3", borrower_id="B2", outstanding=50.0))
    assert (change.previous_exposure, change.exposure) == (300.0, 500.5)
    assert counterparty_exposure(book, LENDER, "B1") == 500.5
    assert total(book) == 550.5


def test_an_event_sets_the_balance_so_a_repeat_changes_nothing() -> None:
    book, _ = new_book()
    apply_loan(book, loan(outstanding=300.0))
    apply_loan(book, loan(outstanding=300.0))
    assert counterparty_exposure(book, LENDER, "B1") == 300.0


def test_repayment_to_zero_closes_the_position_and_forgets_the_borrower() -> None:
    book, store = new_book()
    apply_loan(book, loan(outstanding=300.0))
    apply_loan(
        book, loan(event_type="repayment", outstanding=0.0, event_time="2026-11-03T00:00:00+08:00")
    )
    keys = set(store.data["lender_book"])
    assert f"{LENDER}|c|B1" not in keys and total(book) == 0.0
    assert store.data["lender_book"][f"{LENDER}|p|L1"] == [
        loan(event_time="2026-11-03T00:00:00+08:00").event_time.timestamp(),
        0,
    ]


def test_older_event_arriving_late_is_ignored() -> None:
    book, _ = new_book()
    apply_loan(book, loan(outstanding=100.0, event_time="2026-11-05T00:00:00+08:00"))
    change = apply_loan(book, loan(outstanding=900.0, event_time="2026-11-02T00:00:00+08:00"))
    assert not change.applied
    assert counterparty_exposure(book, LENDER, "B1") == 100.0


def test_late_event_cannot_reopen_a_closed_position() -> None:
    book, _ = new_book()
    apply_loan(
        book, loan(outstanding=0.0, event_type="repayment", event_time="2026-11-05T00:00:00+08:00")
    )
    apply_loan(book, loan(outstanding=900.0, event_time="2026-11-02T00:00:00+08:00"))
    assert total(book) == 0.0


def test_a_later_event_reopens_a_closed_position() -> None:
    book, _ = new_book()
    apply_position(book, LENDER, "P1", "B", 0.0, related=False, t=5.0)
    change = apply_position(book, LENDER, "P1", "B", 40.0, related=False, t=6.0)
    assert change.applied and change.exposure == 40.0


def test_written_off_loan_leaves_the_book_whatever_it_reports() -> None:
    book, _ = new_book()
    apply_loan(book, loan(outstanding=300.0))
    apply_loan(
        book,
        loan(event_type="written_off", outstanding=300.0, event_time="2026-11-09T00:00:00+08:00"),
    )
    assert total(book) == 0.0


def test_related_total_follows_the_related_flag() -> None:
    book, _ = new_book()
    apply_loan(book, loan("L1", related_party=True, outstanding=100.0))
    change = apply_loan(book, loan("L2", borrower_id="B2", outstanding=50.0))
    assert change.related_total == 100.0 and not change.related_touched
    change = apply_loan(
        book,
        loan("L1", related_party=False, outstanding=100.0, event_time="2026-11-03T00:00:00+08:00"),
    )
    assert change.related_touched and change.related_total == 0.0


def test_a_position_moving_to_another_counterparty_moves_its_balance() -> None:
    book, _ = new_book()
    apply_position(book, LENDER, "P1", "B1", 70.0, related=False, t=1.0)
    change = apply_position(book, LENDER, "P1", "B2", 70.0, related=False, t=2.0)
    assert counterparty_exposure(book, LENDER, "B1") == 0.0
    assert change.exposure == 70.0 and change.total == 70.0


def test_cents_do_not_drift_over_many_updates() -> None:
    book, store = new_book()
    for i in range(1000):
        apply_position(book, LENDER, f"P{i}", "B", 0.1, related=False, t=float(i))
    for i in range(1000):
        apply_position(book, LENDER, f"P{i}", "B", 0.0, related=False, t=float(i + 1000))
    assert f"{LENDER}|c|B" not in store.data["lender_book"] and total(book) == 0.0


def test_closed_positions_are_remembered_up_to_a_bound() -> None:
    book, store = new_book()
    for i in range(MAX_CLOSED + 10):
        apply_position(book, LENDER, f"P{i}", "B", 0.0, related=False, t=float(i))
    positions = [k for k in store.data["lender_book"] if "|p|" in k]
    assert len(positions) == MAX_CLOSED
    assert f"{LENDER}|p|P0" not in store.data["lender_book"]
    assert f"{LENDER}|p|P10" in store.data["lender_book"]


def test_a_reopened_position_is_not_forgotten_when_its_closing_slot_is_reused() -> None:
    book, store = new_book()
    apply_position(book, LENDER, "P0", "B", 0.0, related=False, t=0.0)
    apply_position(book, LENDER, "P0", "B", 5.0, related=False, t=1.0)
    for i in range(1, MAX_CLOSED + 1):
        apply_position(book, LENDER, f"P{i}", "B", 0.0, related=False, t=float(i))
    assert counterparty_exposure(book, LENDER, "B") == 5.0
    assert store.data["lender_book"][f"{LENDER}|p|P0"][0] == 5.0


def test_no_value_grows_with_the_book() -> None:
    book, store = new_book()
    for i in range(5000):
        apply_position(book, LENDER, f"L{i}", f"B{i % 2500}", 1000.0, related=False, t=float(i))
    largest = max(len(json.dumps(v)) for v in store.data["lender_book"].values())
    assert largest < 100
    assert total(book) == 5_000_000.0


def test_book_survives_a_json_round_trip() -> None:
    store = DictStore()
    book = KeyedState(store, "guarantor_book")
    apply_guarantee(book, guarantee(outstanding=70.0, debtor_related_party=True))
    store.data = json.loads(json.dumps(store.data))
    change = apply_guarantee(book, guarantee("G2", outstanding=30.0))
    assert (change.exposure, change.total, change.related_total) == (100.0, 100.0, 70.0)


def test_only_a_guarantee_company_reporting_its_own_guarantee_counts() -> None:
    assert is_own_guarantee(guarantee())
    assert not is_own_guarantee(guarantee(guarantor_type="enterprise"))
    assert not is_own_guarantee(guarantee(institution_id="FJ-MC-0001"))


def test_a_book_in_the_old_whole_value_layout_is_split_into_keys_on_first_read() -> None:
    book, store = new_book()
    old_book = {
        "pos": {"L1": [300.0, "B1", 1, 1.0]},
        "closed": {"L0": 5.0},
        "by_cp": {"B1": 300.0},
        "related": 300.0,
        "total": 300.0,
    }
    store.set("lender_book", LENDER, {"book": old_book, "flags": {"B1": 1}})
    change = apply_position(book, LENDER, "L1", "B1", 250.0, related=True, t=2.0)
    assert (change.previous_exposure, change.exposure, change.total) == (300.0, 250.0, 250.0)
    change = apply_position(book, LENDER, "L2", "B1", 200.0, related=False, t=6.0)
    assert (change.previous_exposure, change.exposure) == (250.0, 450.0)
    assert (change.related_total, change.total) == (250.0, 450.0)
    assert not apply_position(book, LENDER, "L0", "B2", 9.0, related=False, t=4.0).applied
    assert store.get("lender_book", f"{LENDER}|f|B1") == 1
    assert "book" not in store.get("lender_book", LENDER)


def test_an_event_already_in_the_book_is_a_repeat_and_changes_nothing() -> None:
    book, _ = new_book()
    first = apply_position(book, LENDER, "L1", "B1", 300.0, related=False, t=1.0, event_id="e1")
    again = apply_position(book, LENDER, "L1", "B1", 300.0, related=False, t=1.0, event_id="e1")
    other = apply_position(book, LENDER, "L1", "B1", 300.0, related=False, t=1.0, event_id="e2")
    assert (first.repeat, again.repeat, again.applied, again.total) == (False, True, False, 300.0)
    assert (other.repeat, other.applied) == (False, True)


def test_a_closing_already_in_the_book_is_a_repeat() -> None:
    book, _ = new_book()
    apply_position(book, LENDER, "L1", "B1", 300.0, related=False, t=1.0, event_id="e1")
    apply_position(book, LENDER, "L1", "B1", 0.0, related=False, t=2.0, event_id="e2")
    assert apply_position(book, LENDER, "L1", "B1", 0.0, related=False, t=2.0, event_id="e2").repeat
