"""Hostile input for the flood benchmark and tests: every kind of record a feed must survive.

``malformed.corrupt`` makes the realistic mistakes (truncated JSON, broken contract, impossible
values); this adds what an attacker or a broken producer sends: oversized records, random
bytes, invalid UTF-8, deeply nested arrays, NaN, a wrong Kafka key and empty values. Each one
must end on the dead-letter topic of its feed, never crash or stall the worker, so a flood of
them must leave the good events' throughput and alerts intact. Deterministic for a given rng.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson

from models.history import HistoryRecord
from stream.simulator.malformed import KINDS, corrupt

#: What a hostile record is wrong about (``malformed.KINDS`` first).
HOSTILE_KINDS = (
    *KINDS,
    "oversized",
    "garbage",
    "bad_utf8",
    "deep_nesting",
    "non_finite",
    "wrong_key",
    "empty",
)
#: The worker's default ``input.max_event_bytes``; oversized records go a little past it.
MAX_EVENT_BYTES = 64 * 1024
NESTING = 5_000

Produced = tuple[str, str, bytes]


def hostile(record: HistoryRecord, kind: str, rng: random.Random, *, serial: int = 0) -> Produced:
    """A ``kind`` of bad sibling of ``record``: (topic, key, value bytes).

    ``serial`` makes the event id unique when one record has several hostile siblings.
    """
    value: dict[str, Any] = dict(record.value)
    value["event_id"] = f"{value['event_id']}-hostile-{serial}"
    topic, key = record.topic, record.key
    if kind in KINDS:
        return corrupt(record, rng)
    if kind == "oversized":
        value["padding"] = "x" * (MAX_EVENT_BYTES + rng.randint(1, 4096))
        return topic, key, orjson.dumps(value)
    if kind == "garbage":
        return topic, key, rng.randbytes(rng.randint(1, 512))
    if kind == "bad_utf8":
        text = orjson.dumps(value)
        return topic, key, text.replace(b'"event_id":"', b'"event_id":"\xff\xfe', 1)
    if kind == "deep_nesting":
        return topic, key, b"[" * NESTING + b"]" * NESTING
    if kind == "non_finite":  # NaN is JavaScript, not JSON; the standard library writes it
        amount = next(k for k in ("principal", "amount", "price", "net_assets") if k in value)
        return topic, key, json.dumps({**value, amount: float("nan")}).encode()
    if kind == "wrong_key":
        return topic, f"{key}-not-its-key", orjson.dumps(value)
    if kind == "empty":
        return topic, key, b""
    raise ValueError(f"unknown hostile kind {kind!r}; known: {', '.join(HOSTILE_KINDS)}")


def flood(
    records: Iterable[HistoryRecord],
    hostile_per_good: float,
    rng: random.Random,
    kinds: Sequence[str] = HOSTILE_KINDS,
) -> Iterator[tuple[Produced, bool]]:
    """Every record as ``((topic, key, JSON bytes), True)``, interleaved evenly with
    ``hostile_per_good`` hostile ones per good one as ``(..., False)``, ``kinds`` in turn.
    """
    if hostile_per_good < 0:
        raise ValueError(f"hostile_per_good must be >= 0, got {hostile_per_good}")
    unknown = sorted(set(kinds) - set(HOSTILE_KINDS))
    if not kinds or unknown:
        raise ValueError(f"hostile kinds must be some of {', '.join(HOSTILE_KINDS)}: {unknown}")
    credit, serial = 0.0, 0
    for record in records:
        yield (record.topic, record.key, orjson.dumps(record.value)), True
        credit += hostile_per_good
        while credit >= 1.0:
            credit -= 1.0
            kind = kinds[serial % len(kinds)]
            yield hostile(record, kind, rng, serial=serial), False
            serial += 1
