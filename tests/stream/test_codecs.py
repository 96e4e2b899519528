"""Bytes -> events: every kind of bad input becomes a dead letter with a reason."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from models import Feed, Loan
from models.contract import contract_errors, passes_compiled, validator
from stream.codecs import DeadLetter, Origin, RecentIds, decode

ORIGIN = Origin(topic="loans", partition=2, offset=41, key=b"FJ-MC-0007")
MAX_BYTES = 4096


def loan(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "event_id": "loan-000001",
        "event_type": "originated",
        "event_time": "2026-11-26T10:15:00+08:00",
        "institution_id": "FJ-MC-0007",
        "loan_id": "MC7-2026-118204",
        "borrower_id": "91350500MA2XXXXXX1",
        "borrower_type": "enterprise",
        "principal": 3000000,
        "outstanding": 3000000,
        "annual_rate": 0.152,
        "term_days": 180,
        "days_past_due": 0,
    }
    doc.update(changes)
    return doc


def encode(doc: Any) -> bytes:
    return orjson.dumps(doc)


def test_valid_loan_decodes_to_a_typed_event() -> None:
    event = decode(Feed.LOANS, encode(loan()), ORIGIN, max_bytes=MAX_BYTES)

    assert isinstance(event, Loan)
    assert event.loan_id == "MC7-2026-118204"
    assert event.event_time.utcoffset() is not None


def test_message_without_key_is_accepted() -> None:
    origin = Origin(topic="loans", partition=0, offset=0, key=None)

    assert isinstance(decode(Feed.LOANS, encode(loan()), origin, max_bytes=MAX_BYTES), Loan)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"not json at all", "not JSON"),
        (b'{"event_id": "x", "principal": NaN}', "not JSON"),
        (b'{"event_id": "x", "principal": Infinity}', "not JSON"),
        (b"[1, 2, 3]", "breaks the loans contract"),
        (encode(loan(annual_rate="high")), "breaks the loans contract: annual_rate"),
        (encode({k: v for k, v in loan().items() if k != "loan_id"}), "loan_id"),
        (encode(loan(days_past_due=30)), "impossible values: .*originated with days_past_due"),
        (encode(loan(outstanding=9000000)), "impossible values: .*above principal"),
        (encode(loan(event_time="2026-11-26T10:15:00")), "event_time"),
    ],
)
def test_bad_input_becomes_a_dead_letter_with_its_reason(raw: bytes, reason: str) -> None:
    letter = decode(Feed.LOANS, raw, ORIGIN, max_bytes=MAX_BYTES)

    assert isinstance(letter, DeadLetter)
    assert re.search(reason, letter.reason), letter.reason


def test_a_contract_break_reason_names_the_first_violation_only() -> None:
    raw = encode(loan(annual_rate="high", term_days="long", unexpected=True))

    letter = decode(Feed.LOANS, raw, ORIGIN, max_bytes=MAX_BYTES)

    assert isinstance(letter, DeadLetter)
    assert letter.reason.startswith("breaks the loans contract: ")
    assert letter.reason.count("; ") == 0, letter.reason
    assert len(contract_errors(Feed.LOANS, orjson.loads(raw))) == 3  # all three are there


def test_dead_letter_keeps_the_original_bytes_and_origin() -> None:
    raw = encode(loan(days_past_due=30))

    letter = decode(Feed.LOANS, raw, ORIGIN, max_bytes=MAX_BYTES)

    assert isinstance(letter, DeadLetter)
    assert (letter.raw, letter.topic, letter.partition, letter.offset, letter.key) == (
        raw,
        "loans",
        2,
        41,
        b"FJ-MC-0007",
    )
    assert letter.event_id == "loan-000001"


def test_oversized_message_is_refused_before_parsing() -> None:
    raw = encode(loan(industry_code="C" * MAX_BYTES))

    letter = decode(Feed.LOANS, raw, ORIGIN, max_bytes=MAX_BYTES)

    assert isinstance(letter, DeadLetter)
    assert letter.reason == f"message of {len(raw)} bytes exceeds {MAX_BYTES}"


def test_message_exactly_at_the_size_limit_is_accepted() -> None:
    raw = encode(loan())

    assert isinstance(decode(Feed.LOANS, raw, ORIGIN, max_bytes=len(raw)), Loan)


def test_key_that_is_not_the_feed_key_is_refused() -> None:
    origin = Origin(topic="loans", partition=0, offset=0, key=b"FJ-MC-9999")

    letter = decode(Feed.LOANS, encode(loan()), origin, max_bytes=MAX_BYTES)

    assert isinstance(letter, DeadLetter)
    assert "is not the loans key 'FJ-MC-0007'" in letter.reason


def test_recent_ids_flag_a_resent_event_on_the_same_partition() -> None:
    recent = RecentIds(capacity=10)

    assert recent.seen_before("loans", 0, "e1") is False
    assert recent.seen_before("loans", 0, "e1") is True


def test_recent_ids_are_kept_per_partition() -> None:
    recent = RecentIds(capacity=10)
    recent.seen_before("loans", 0, "e1")

    assert recent.seen_before("loans", 1, "e1") is False
    assert recent.seen_before("trades", 0, "e1") is False


def test_recent_ids_forget_the_oldest_beyond_capacity() -> None:
    recent = RecentIds(capacity=2)
    for event_id in ("e1", "e2", "e3"):
        recent.seen_before("loans", 0, event_id)

    assert recent.seen_before("loans", 0, "e1") is False
    assert recent.seen_before("loans", 0, "e3") is True


def test_recent_ids_refuse_a_capacity_below_one() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1, got 0"):
        RecentIds(capacity=0)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"annual_rate": -0.1},
        {"annual_rate": 11},
        {"principal": "1000"},
        {"event_type": "teleported"},
        {"institution_id": "has space"},
        {"borrower_region_code": "440100"},
        {"event_time": "yesterday"},
        {"event_id": ""},
        {"unexpected": 1},
        {"term_days": 1.5},
        {"related_party": "yes"},
    ],
)
def test_fast_contract_check_agrees_with_the_contract(changes: dict[str, Any]) -> None:
    doc = loan(**changes)

    judged = list(validator(Feed.LOANS).iter_errors(doc))
    assert passes_compiled(Feed.LOANS, doc) == (judged == [])
    assert (contract_errors(Feed.LOANS, doc) == []) == (judged == [])
