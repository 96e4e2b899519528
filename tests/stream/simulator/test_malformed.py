from __future__ import annotations

import json
import random

import pytest

from models.contract import contract_errors
from models.errors import InvalidEvent
from models.events import parse_event
from models.history import HistoryRecord
from stream.simulator.malformed import corrupt, with_malformed

LOAN = HistoryRecord(
    "loans",
    "FJ-MC-0001",
    {
        "event_id": "ln-1",
        "event_type": "repayment",
        "event_time": "2026-11-10T10:00:00+08:00",
        "institution_id": "FJ-MC-0001",
        "loan_id": "LN1",
        "borrower_id": "P1",
        "borrower_type": "individual",
        "principal": 1000,
        "outstanding": 500,
        "annual_rate": 0.1,
        "term_days": 90,
        "days_past_due": 0,
        "payment_amount": 500,
    },
)


def _judge(value: bytes) -> str:
    try:
        doc = json.loads(value)
    except ValueError:
        return "not_json"
    if contract_errors("loans", doc):
        return "contract"
    try:
        parse_event("loans", doc)
    except InvalidEvent:
        return "impossible"
    return "valid"


def test_every_corrupted_record_is_bad_input() -> None:
    rng = random.Random(1)
    verdicts = {_judge(corrupt(LOAN, rng)[2]) for _ in range(60)}
    assert verdicts == {"not_json", "contract", "impossible"}


def test_corrupted_records_keep_topic_and_key_and_get_a_new_event_id() -> None:
    topic, key, value = corrupt(LOAN, random.Random(2))
    assert (topic, key) == ("loans", "FJ-MC-0001")
    assert b'"event_id":"ln-1"' not in value


@pytest.mark.parametrize("rate", [0.0, 0.5])
def test_with_malformed_sends_every_good_record_once(rate: float) -> None:
    out = list(with_malformed([LOAN] * 20, rate, random.Random(3)))
    good = [v for _, _, v in out if _judge(v) == "valid"]
    assert len(good) == 20
    assert (len(out) > 20) == (rate > 0)
