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
    new_book,
)
from tests.models.rules._make import guarantee, loan


def test_exposure_sums_the_borrowers_outstanding_loans() -> None:
    book = new_book()
    apply_loan(book, loan("L1", outstanding=300.0))
    change = apply_loan(book, loan("L2", outstanding=200.5))
    apply_loan(book, loan("L3", borrower_id="B2", outstanding=50.0))
    assert (change.previous_exposure, change.exposure) == (300.0, 500.5)
    assert counterparty_exposure(book, "B1") == 500.5
    assert book["total"] == 550.5


def test_an_event_sets_the_balance_so_a_repeat_changes_nothing() -> None:
    book = new_book()
    apply_loan(book, loan(outstanding=300.0))
    apply_loan(book, loan(outstanding=300.0))
    assert counterparty_exposure(book, "B1") == 300.0


def test_repayment_to_zero_closes_the_position_and_forgets_the_borrower() -> None:
    book = new_book()
    apply_loan(book, loan(outstanding=300.0))
    apply_loan(
        book, loan(event_type="repayment", outstanding=0.0, event_time="2026-11-03T00:00:00+08:00")
    )
    assert book["pos"] == {} and book["by_cp"] == {} and book["total"] == 0.0
    assert "L1" in book["closed"]


def test_older_event_arriving_late_is_ignored() -> None:
    book = new_book()
    apply_loan(book, loan(outstanding=100.0, event_time="2026-11-05T00:00:00+08:00"))
    change = apply_loan(book, loan(outstanding=900.0, event_time="2026-11-02T00:00:00+08:00"))
    assert not change.applied
    assert counterparty_exposure(book, "B1") == 100.0


def test_late_event_cannot_reopen_a_closed_position() -> None:
    book = new_book()
    apply_loan(
        book, loan(outstanding=0.0, event_type="repayment", event_time="2026-11-05T00:00:00+08:00")
    )
    apply_loan(book, loan(outstanding=900.0, event_time="2026-11-02T00:00:00+08:00"))
    assert book["total"] == 0.0


def test_written_off_loan_leaves_the_book_whatever_it_reports() -> None:
    book = new_book()
    apply_loan(book, loan(outstanding=300.0))
    apply_loan(
        book,
        loan(event_type="written_off", outstanding=300.0, event_time="2026-11-09T00:00:00+08:00"),
    )
    assert book["total"] == 0.0


def test_related_total_follows_the_related_flag() -> None:
    book = new_book()
    apply_loan(book, loan("L1", related_party=True, outstanding=100.0))
    change = apply_loan(book, loan("L2", borrower_id="B2", outstanding=50.0))
    assert change.related_total == 100.0 and not change.related_touched
    change = apply_loan(
        book,
        loan("L1", related_party=False, outstanding=100.0, event_time="2026-11-03T00:00:00+08:00"),
    )
    assert change.related_touched and change.related_total == 0.0


def test_cents_do_not_drift_over_many_updates() -> None:
    book = new_book()
    for i in range(1000):
        apply_position(book, f"P{i}", "B", 0.1, related=False, t=float(i))
    for i in range(1000):
        apply_position(book, f"P{i}", "B", 0.0, related=False, t=float(i + 1000))
    assert book["by_cp"] == {} and book["total"] == 0.0


def test_closed_positions_are_remembered_up_to_a_bound() -> None:
    book = new_book()
    for i in range(MAX_CLOSED + 10):
        apply_position(book, f"P{i}", "B", 0.0, related=False, t=float(i))
    assert len(book["closed"]) == MAX_CLOSED
    assert "P0" not in book["closed"]


def test_book_survives_a_json_round_trip() -> None:
    book = new_book()
    apply_guarantee(book, guarantee(outstanding=70.0, debtor_related_party=True))
    book = json.loads(json.dumps(book))
    change = apply_guarantee(book, guarantee("G2", outstanding=30.0))
    assert (change.exposure, change.total, change.related_total) == (100.0, 100.0, 70.0)


def test_only_a_guarantee_company_reporting_its_own_guarantee_counts() -> None:
    assert is_own_guarantee(guarantee())
    assert not is_own_guarantee(guarantee(guarantor_type="enterprise"))
    assert not is_own_guarantee(guarantee(institution_id="FJ-MC-0001"))
