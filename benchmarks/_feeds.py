"""The benchmark's input: simulated feeds with injected scenarios, a synthetic large book, and a
paced producer that remembers when each event was sent.

Records are generated before any clock starts (the simulator is not what is measured) and
produced as fast as the broker takes them, or at a fixed rate for the latency run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from kafka import KafkaProducer

from stream.simulator import Simulation, SimulatorConfig

log = logging.getLogger(__name__)

FEEDS = ("institutions", "loans", "guarantees", "trades")


@dataclass(frozen=True, slots=True)
class Message:
    """One feed record ready to produce: feed name, key and JSON bytes, and its event id."""

    feed: str
    key: bytes
    value: bytes
    event_id: str


def simulated(events: int, *, seed: int, scenarios: int = 3) -> list[Message]:
    """``events`` simulator records (every feed, ``scenarios`` injections per category)."""
    sim = Simulation(SimulatorConfig(seed=seed, events=events, scenarios=scenarios))
    return [
        Message(r.topic, r.key.encode(), orjson.dumps(r.value), str(r.value["event_id"]))
        for r in sim.records()
    ]


def large_book(borrowers: int, graph_nodes: int, *, seed: int) -> list[Message]:
    """A sector with ``borrowers`` distinct borrowers and a guarantee graph of ``graph_nodes``.

    The simulator's institutions (so every lender is registered), then one originated loan per
    borrower spread over the lenders, then a chain of enterprise guarantees
    (E0 guarantees E1, E1 guarantees E2, ...) so the network holds ``graph_nodes`` nodes.
    Templates are simulator records, so every value is contract-valid.
    """
    sim = Simulation(SimulatorConfig(seed=seed, events=20_000, scenarios=0))
    institutions: list[dict[str, Any]] = []
    loan_template: dict[str, Any] | None = None
    guarantee_template: dict[str, Any] | None = None
    for record in sim.records():
        value = record.value
        if record.topic == "institutions":
            institutions.append(value)
        elif record.topic == "loans" and value["event_type"] == "originated":
            loan_template = loan_template or value
        elif record.topic == "guarantees" and value.get("guarantor_type") == "enterprise":
            guarantee_template = guarantee_template or value
    if loan_template is None or guarantee_template is None:
        raise RuntimeError("the simulator produced no originated loan or enterprise guarantee")
    lenders = sorted(
        {i["institution_id"] for i in institutions if i["institution_type"] == "microcredit"}
    )
    start = datetime.fromisoformat(str(loan_template["event_time"]))
    out = [_message("institutions", i["institution_id"], i) for i in institutions]
    for n in range(borrowers):
        lender = lenders[n % len(lenders)]
        loan = {
            **loan_template,
            "event_id": f"bench-ln-{n:07d}",
            "event_time": (start + timedelta(seconds=n)).isoformat(),
            "institution_id": lender,
            "loan_id": f"BENCH-L{n:07d}",
            "borrower_id": f"BENCH-B{n:07d}",
        }
        out.append(_message("loans", lender, loan))
    for n in range(max(graph_nodes - 1, 0)):
        guarantee = {
            **guarantee_template,
            "event_id": f"bench-gt-{n:06d}",
            "event_time": (start + timedelta(seconds=borrowers + n)).isoformat(),
            "guarantee_id": f"BENCH-G{n:06d}",
            "guarantor_id": f"BENCH-E{n:06d}",
            "debtor_id": f"BENCH-E{n + 1:06d}",
        }
        out.append(_message("guarantees", guarantee["guarantor_id"], guarantee))
    return out


def _message(feed: str, key: str, value: dict[str, Any]) -> Message:
    return Message(feed, key.encode(), orjson.dumps(value), str(value["event_id"]))


def counts(messages: Iterable[Message]) -> dict[str, int]:
    found = dict.fromkeys(FEEDS, 0)
    for message in messages:
        found[message.feed] += 1
    return found


def producer(bootstrap: str, *, linger_ms: int) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        linger_ms=linger_ms,
        batch_size=512 * 1024,
        max_request_size=4 * 1024 * 1024,
        compression_type=None,
    )


def preload(bootstrap: str, topics: dict[str, str], messages: Iterable[Message]) -> int:
    """Produce every message as fast as the broker takes it; returns how many were sent."""
    client = producer(bootstrap, linger_ms=20)
    sent = 0
    try:
        for message in messages:
            client.send(topics[message.feed], key=message.key, value=message.value)
            sent += 1
        client.flush(timeout=120)
    finally:
        client.close(timeout=10)
    return sent


@dataclass(frozen=True, slots=True)
class Paced:
    """Wall time (epoch s) each event id was handed to the producer, and the rate achieved."""

    sent_at: dict[str, float]
    rate: float


def paced(bootstrap: str, topics: dict[str, str], messages: list[Message], *, rate: float) -> Paced:
    """Produce at ``rate`` messages a second, remembering when each event id was sent.

    Small batches (1 ms linger) so the producer adds little to the latency it helps measure.
    """
    client = producer(bootstrap, linger_ms=1)
    sent_at: dict[str, float] = {}
    began = time.monotonic()
    try:
        for message in _due(messages, began, rate):
            sent_at[message.event_id] = time.time()
            client.send(topics[message.feed], key=message.key, value=message.value)
        achieved = len(messages) / max(time.monotonic() - began, 1e-9)
        client.flush(timeout=60)
    finally:
        client.close(timeout=10)
    log.info("paced %d messages at %.0f/s (asked %.0f/s)", len(messages), achieved, rate)
    return Paced(sent_at, achieved)


def _due(messages: list[Message], began: float, rate: float) -> Iterator[Message]:
    """Yield each message at its due time (sleeping only when ahead of the schedule)."""
    for n, message in enumerate(messages):
        delay = began + n / rate - time.monotonic()
        if delay > 0.0005:
            time.sleep(delay)
        yield message
