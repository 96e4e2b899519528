"""Bad input for the dead-letter demo: records that are not JSON, break their contract, or
carry values no real event can have. They only ever go to Kafka, never into a history file.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from models.history import HistoryRecord

#: What a malformed record is wrong about (the dead-letter reason should say the same).
KINDS = ("not_json", "contract", "impossible")


def corrupt(record: HistoryRecord, rng: random.Random) -> tuple[str, str, bytes]:
    """A bad sibling of ``record``: (topic, key, value bytes) with a new event id."""
    value: dict[str, Any] = dict(record.value)
    value["event_id"] = f"{value['event_id']}-bad"
    kind = rng.choice(KINDS)
    if kind == "not_json":
        raw = orjson.dumps(value)
        return record.topic, record.key, raw[: rng.randint(1, max(1, len(raw) - 2))]
    if kind == "impossible" and _make_impossible(record.topic, value):
        return record.topic, record.key, orjson.dumps(value)
    _break_contract(value, rng)
    return record.topic, record.key, orjson.dumps(value)


def _break_contract(value: dict[str, Any], rng: random.Random) -> None:
    choice = rng.randrange(4)
    if choice == 0:
        del value["event_time"]
    elif choice == 1:
        value["event_time"] = value["event_time"][:19]  # no UTC offset
    elif choice == 2:
        value["unexpected_field"] = True
    else:
        key = next(k for k in ("principal", "amount", "price", "net_assets") if k in value)
        value[key] = "a lot"


def _make_impossible(topic: str, value: dict[str, Any]) -> bool:
    """Contract-valid values that cannot be true; False when the record has no such form."""
    if topic == "loans":
        value["event_type"] = "originated"
        value["days_past_due"] = 30
        value["outstanding"] = value["principal"]
        value.pop("payment_amount", None)
        value.pop("previous_loan_id", None)
        return True
    if topic == "guarantees":
        value["guarantor_id"] = value["debtor_id"]
        return True
    return False


def with_malformed(
    records: Iterable[HistoryRecord], rate: float, rng: random.Random
) -> Iterator[tuple[str, str, bytes]]:
    """Every record as (topic, key, JSON bytes), followed by a bad sibling at ``rate``."""
    for record in records:
        yield record.topic, record.key, orjson.dumps(record.value)
        if rate > 0 and rng.random() < rate:
            yield corrupt(record, rng)
