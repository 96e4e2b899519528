"""Hostile records: each kind is refused by the decoder, and the flood interleaves them evenly."""

from __future__ import annotations

import random

import orjson
import pytest

from models import Feed
from models.history import HistoryRecord
from stream.codecs import DeadLetter, Origin, decode
from stream.simulator import Simulation, SimulatorConfig
from stream.simulator.hostile import HOSTILE_KINDS, MAX_EVENT_BYTES, flood, hostile


@pytest.fixture(scope="module")
def records() -> list[HistoryRecord]:
    return list(
        Simulation(SimulatorConfig(seed=5, events=3000, institutions=60, scenarios=0)).records()
    )


def refused(topic: str, key: str, raw: bytes) -> bool:
    origin = Origin(topic, 0, 0, key.encode())
    return isinstance(decode(Feed(topic), raw, origin, max_bytes=MAX_EVENT_BYTES), DeadLetter)


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
@pytest.mark.parametrize("feed", ["institutions", "loans", "guarantees", "trades"])
def test_every_kind_of_hostile_record_is_a_dead_letter(
    records: list[HistoryRecord], kind: str, feed: str
) -> None:
    record = next(r for r in records if r.topic == feed)

    assert refused(*hostile(record, kind, random.Random(kind)))


def test_an_unknown_kind_is_refused(records: list[HistoryRecord]) -> None:
    with pytest.raises(ValueError, match="unknown hostile kind 'polite'"):
        hostile(records[0], "polite", random.Random(0))


@pytest.mark.parametrize("ratio", [0.0, 0.5, 1.0, 3.0])
def test_the_flood_keeps_every_good_record_in_order_and_adds_ratio_hostile_ones(
    records: list[HistoryRecord], ratio: float
) -> None:
    out = list(flood(records, ratio, random.Random(1)))
    good = [produced for produced, is_good in out if is_good]

    assert [value for _, _, value in good] == [orjson.dumps(r.value) for r in records]
    assert len(out) - len(good) == int(len(records) * ratio)


def test_the_flood_is_the_same_for_the_same_seed(records: list[HistoryRecord]) -> None:
    assert list(flood(records, 1.0, random.Random(9))) == list(
        flood(records, 1.0, random.Random(9))
    )


def test_a_flood_of_chosen_kinds_takes_only_those(records: list[HistoryRecord]) -> None:
    out = list(flood(records[:40], 1.0, random.Random(3), kinds=("empty", "garbage")))
    hostile_values = [value for (_, _, value), is_good in out if not is_good]

    assert len(hostile_values) == 40
    assert hostile_values[0::2] == [b""] * 20  # empty, garbage, empty, ...
    assert all(value for value in hostile_values[1::2])


@pytest.mark.parametrize("kinds", [(), ("polite",)])
def test_a_flood_of_no_or_unknown_kinds_is_refused(
    records: list[HistoryRecord], kinds: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="hostile kinds must be some of"):
        list(flood(records, 1.0, random.Random(3), kinds=kinds))
