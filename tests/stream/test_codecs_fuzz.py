"""Hostile bytes against the feed decoders: every input is an event or a dead letter, quickly.

Hypothesis mutates valid events of each feed (wrong-typed, oversized, deeply nested, NaN and
Infinity, huge numbers, bad UTF-8, random bytes) and checks the one promise the worker relies
on: ``decode`` returns a typed event of the feed or a ``DeadLetter`` with a reason and the
original bytes, never raises, and answers within a bounded time. The example counts are fixed
so the module stays well under a minute.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Feed
from models.events import EVENT_TYPES
from stream.codecs import DeadLetter, Origin, RecentIds, decode
from stream.deadletter import headers

MAX_BYTES = 64 * 1024
#: Per input: the decoder's worst honest case (a jsonschema fallback) is a few milliseconds.
SECONDS_PER_INPUT = 0.5
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: One valid event of each feed, as the simulator writes them (seed 1).
VALID: dict[Feed, dict[str, Any]] = {
    Feed.INSTITUTIONS: {
        "event_id": "ins-s1-0000001",
        "event_time": "2026-11-02T00:00:00+08:00",
        "institution_id": "FJ-MC-0001",
        "name": "宁德宏远小额贷款有限公司",
        "institution_type": "microcredit",
        "region_code": "350900",
        "registered_capital": 57725113,
        "net_assets": 62869669,
        "license_status": "active",
    },
    Feed.LOANS: {
        "event_id": "ln-s1-0000001",
        "event_type": "originated",
        "event_time": "2026-11-02T00:10:00+08:00",
        "institution_id": "FJ-MC-0001",
        "loan_id": "LN00000001",
        "borrower_id": "P00aa5d1f21eb9927",
        "borrower_type": "individual",
        "borrower_region_code": "350900",
        "related_party": False,
        "principal": 51900,
        "outstanding": 51900,
        "annual_rate": 0.1038,
        "term_days": 365,
        "days_past_due": 0,
        "collateral": "guarantee",
    },
    Feed.GUARANTEES: {
        "event_id": "gt-s1-0000001",
        "event_type": "issued",
        "event_time": "2026-11-02T03:07:36+08:00",
        "institution_id": "FJ-GT-0001",
        "guarantee_id": "GU00000001",
        "guarantor_id": "FJ-GT-0001",
        "guarantor_type": "guarantee_company",
        "debtor_id": "P2f9e97ed139a2168",
        "creditor_id": "FJ-LB-0004",
        "amount": 318000,
        "outstanding": 318000,
        "debtor_related_party": False,
        "guarantee_type": "loan",
        "fee_rate": 0.0154,
    },
    Feed.TRADES: {
        "event_id": "tr-s1-0000001",
        "event_time": "2026-11-02T09:31:59+08:00",
        "venue_id": "FJ-TV-0004",
        "product_id": "V04-CO-100030",
        "product_type": "commodity_rights",
        "trade_id": "T000000001",
        "buyer_account": "V04-AC0001020",
        "seller_account": "V04-AC0000998",
        "buyer_owner_id": "BO-0001020",
        "seller_owner_id": "BO-0000998",
        "price": 6.86,
        "quantity": 2100.0,
        "trading_mode": "negotiated",
    },
}
KEY_FIELD = {
    Feed.INSTITUTIONS: "institution_id",
    Feed.LOANS: "institution_id",
    Feed.GUARANTEES: "guarantor_id",
    Feed.TRADES: "product_id",
}

feeds = st.sampled_from(list(VALID))
#: Numbers JSON can carry, and the ones it should not (huge, tiny, non-finite via json.dumps).
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**63, max_value=10**400),
    st.integers(max_value=-(2**63), min_value=-(10**400)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -0.0, 1e308, -1e308, 5e-324, 1e-400]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=40))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def origin_for(feed: Feed, doc: Any) -> Origin:
    """The origin the feed's key would give (a wrong key is tested on its own)."""
    key = doc.get(KEY_FIELD[feed]) if isinstance(doc, dict) else None
    return Origin(
        topic=str(feed), partition=1, offset=7, key=key.encode() if isinstance(key, str) else None
    )


def dumps(doc: Any) -> bytes:
    """JSON as a careless producer writes it: NaN, Infinity and big integers included."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def assert_event_or_dead_letter(feed: Feed, raw: bytes, origin: Origin) -> None:
    started = time.perf_counter()
    result = decode(feed, raw, origin, max_bytes=MAX_BYTES)
    elapsed = time.perf_counter() - started

    assert elapsed < SECONDS_PER_INPUT, f"{elapsed:.3f} s for {len(raw)} bytes"
    if isinstance(result, DeadLetter):
        assert result.reason
        assert result.raw == raw
        assert (result.topic, result.partition, result.offset, result.key) == (
            origin.topic,
            origin.partition,
            origin.offset,
            origin.key,
        )
        assert dict(headers(result))["fenghuo-reason"]
    else:
        assert isinstance(result, EVENT_TYPES[feed])
        assert origin.key is None or result.key == origin.key.decode()


@FUZZ
@given(feed=feeds, data=st.data())
def test_a_field_with_any_json_value_is_an_event_or_a_dead_letter(
    feed: Feed, data: st.DataObject
) -> None:
    doc = copy.deepcopy(VALID[feed])
    name = data.draw(st.sampled_from([*doc, "unexpected_field"]))
    doc[name] = data.draw(json_values)

    assert_event_or_dead_letter(feed, dumps(doc), origin_for(feed, doc))


@FUZZ
@given(feed=feeds, data=st.data())
def test_a_numeric_field_with_any_number_is_an_event_or_a_dead_letter(
    feed: Feed, data: st.DataObject
) -> None:
    doc = copy.deepcopy(VALID[feed])
    numeric = [k for k, v in doc.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    doc[data.draw(st.sampled_from(numeric))] = data.draw(numbers)

    assert_event_or_dead_letter(feed, dumps(doc), origin_for(feed, doc))


@FUZZ
@given(feed=feeds, depth=st.integers(min_value=1, max_value=5000), as_list=st.booleans())
def test_a_deeply_nested_field_is_an_event_or_a_dead_letter(
    feed: Feed, depth: int, as_list: bool
) -> None:
    opening, closing = ("[", "]") if as_list else ('{"a":', "}")
    nested = opening * depth + "1" + closing * depth
    doc = copy.deepcopy(VALID[feed])
    raw = dumps(doc)[:-1] + b',"nested":' + nested.encode() + b"}"

    assert_event_or_dead_letter(feed, raw, origin_for(feed, doc))


@FUZZ
@given(feed=feeds, data=st.data())
def test_corrupted_bytes_are_an_event_or_a_dead_letter(feed: Feed, data: st.DataObject) -> None:
    """Bad UTF-8, truncation and stray bytes anywhere in an otherwise valid event."""
    doc = VALID[feed]
    raw = bytearray(dumps(doc))
    position = data.draw(st.integers(min_value=0, max_value=len(raw)))
    junk = data.draw(
        st.one_of(
            st.sampled_from(
                [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x00"]
            ),
            st.binary(min_size=1, max_size=16),
        )
    )
    if data.draw(st.booleans()):
        raw[position:position] = junk
    else:
        del raw[position:]

    assert_event_or_dead_letter(feed, bytes(raw), origin_for(feed, doc))


@FUZZ
@given(feed=feeds, raw=st.binary(max_size=512))
def test_arbitrary_bytes_are_an_event_or_a_dead_letter(feed: Feed, raw: bytes) -> None:
    assert_event_or_dead_letter(feed, raw, Origin(str(feed), 0, 0, None))


@FUZZ
@given(feed=feeds, doc=json_values)
def test_any_json_document_is_an_event_or_a_dead_letter(feed: Feed, doc: Any) -> None:
    assert_event_or_dead_letter(feed, dumps(doc), Origin(str(feed), 0, 0, b"FJ-MC-0001"))


@pytest.mark.parametrize("feed", list(VALID))
@pytest.mark.parametrize("size", [MAX_BYTES + 1, 4 * MAX_BYTES, 16 * 2**20])
def test_an_oversized_message_is_refused_quickly(feed: Feed, size: int) -> None:
    doc = copy.deepcopy(VALID[feed])
    doc["padding"] = "x" * size
    raw = dumps(doc)

    started = time.perf_counter()
    result = decode(feed, raw, origin_for(feed, doc), max_bytes=MAX_BYTES)

    assert isinstance(result, DeadLetter)
    assert "exceeds" in result.reason
    assert time.perf_counter() - started < 0.05


@pytest.mark.parametrize("feed", list(VALID))
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_non_finite_numbers_are_dead_letters(feed: Feed, token: str) -> None:
    doc = VALID[feed]
    field, value = next((k, v) for k, v in doc.items() if type(v) in (int, float))
    number = f'"{field}": {json.dumps(value)}'.encode()
    raw = dumps(doc).replace(number, f'"{field}": {token}'.encode(), 1)
    assert token.encode() in raw

    result = decode(feed, raw, origin_for(feed, doc), max_bytes=MAX_BYTES)

    assert isinstance(result, DeadLetter)
    assert "not JSON" in result.reason


@pytest.mark.parametrize("feed", list(VALID))
def test_every_valid_sample_decodes(feed: Feed) -> None:
    doc = VALID[feed]

    assert isinstance(
        decode(feed, dumps(doc), origin_for(feed, doc), max_bytes=MAX_BYTES), EVENT_TYPES[feed]
    )


@FUZZ
@given(
    ids=st.lists(st.sampled_from([f"ev-{i}" for i in range(12)]), max_size=200),
    capacity=st.integers(min_value=1, max_value=16),
)
def test_recent_ids_flag_exactly_the_resends_within_capacity(ids: list[str], capacity: int) -> None:
    """A duplicate event id is skipped iff it is among the last ``capacity`` distinct ids seen."""
    recent = RecentIds(capacity)
    model: list[str] = []  # least recently seen first

    for event_id in ids:
        expected = event_id in model
        assert recent.seen_before("loans", 0, event_id) is expected
        if expected:
            model.remove(event_id)
        model.append(event_id)
        del model[:-capacity]
