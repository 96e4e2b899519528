"""The history as a whole: deterministic, contract-valid, ordered, institutions and book first."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from models.contract import contract_errors
from models.events import parse_event
from stream.simulator import Simulation, SimulatorConfig
from tests.stream.simulator.conftest import History

SMALL = {"institutions": 60, "events": 3000, "scenarios": 0}


def _lines(config: SimulatorConfig) -> list[str]:
    return [record.to_json() for record in Simulation(config).records()]


def test_same_seed_gives_identical_records() -> None:
    assert _lines(SimulatorConfig(seed=5, **SMALL)) == _lines(SimulatorConfig(seed=5, **SMALL))


def test_different_seed_gives_different_records() -> None:
    assert _lines(SimulatorConfig(seed=5, **SMALL)) != _lines(SimulatorConfig(seed=6, **SMALL))


def test_records_can_be_iterated_again_with_the_same_result() -> None:
    sim = Simulation(SimulatorConfig(seed=5, **SMALL))
    first = [r.to_json() for r in sim.records()]
    assert [r.to_json() for r in sim.records()] == first


def test_records_are_valid_against_their_contracts(history: History) -> None:
    """Every injected record, and up to 150 background records of each topic and event type
    (jsonschema is slow; all records build typed events in the next test)."""
    injected = {e for label in history.labels for e in label.event_ids}
    seen: Counter[tuple[str, object]] = Counter()
    checked = []
    for r in history.records:
        kind = (r.topic, r.value.get("event_type"))
        seen[kind] += 1
        if r.value["event_id"] in injected or seen[kind] <= 150:
            checked.append(r)
    broken = [(r.topic, contract_errors(r.topic, r.value)) for r in checked]
    assert len(checked) > 1000
    assert [b for b in broken if b[1]] == []


def test_every_record_builds_a_typed_event(history: History) -> None:
    for record in history.records:
        event = parse_event(record.topic, record.value)
        assert event.key == record.key


def test_records_come_in_event_time_order(history: History) -> None:
    times = [datetime.fromisoformat(r.value["event_time"]) for r in history.records]
    assert times == sorted(times)


def test_every_timestamp_carries_the_fujian_offset(history: History) -> None:
    assert {r.value["event_time"][-6:] for r in history.records} == {"+08:00"}


def test_event_ids_are_unique(history: History) -> None:
    ids = Counter(r.value["event_id"] for r in history.records)
    assert ids.most_common(1)[0][1] == 1


@pytest.mark.parametrize("field", ["principal", "outstanding", "amount", "payment_amount"])
def test_amounts_have_at_most_two_decimals(history: History, field: str) -> None:
    amounts = [r.value[field] for r in history.records if field in r.value]
    assert amounts
    assert all(round(a, 2) == a for a in amounts)


def test_history_starts_with_every_institution_record(history: History) -> None:
    n = history.config.institutions
    assert {r.topic for r in history.records[:n]} == {"institutions"}
    assert len({r.key for r in history.records[:n]}) == n


def test_book_is_rereported_before_live_activity(history: History) -> None:
    n = history.config.institutions
    start = datetime.fromisoformat(history.records[0].value["event_time"])
    first_hours = [
        r
        for r in history.records[n:]
        if (datetime.fromisoformat(r.value["event_time"]) - start).total_seconds() < 6 * 3600
    ]
    kinds = Counter((r.topic, r.value.get("event_type")) for r in first_hours)
    assert kinds[("loans", "originated")] > 500
    assert kinds[("guarantees", "issued")] > 100
    assert set(kinds) <= {("loans", "originated"), ("loans", "overdue"), ("guarantees", "issued")}


def test_live_activity_covers_every_feed(history: History) -> None:
    topics = Counter(r.topic for r in history.records)
    assert topics["trades"] > 1000
    assert topics["loans"] > 1000
    assert topics["guarantees"] > 300


def test_events_option_stops_at_that_many_records() -> None:
    records = list(Simulation(SimulatorConfig(seed=3, **SMALL)).records())
    assert 2700 <= len(records) <= 3000


def test_duration_option_bounds_the_simulated_span() -> None:
    config = SimulatorConfig(seed=3, institutions=60, duration=2 * 86_400, scenarios=0)
    records = list(Simulation(config).records())
    start = datetime.fromisoformat(records[0].value["event_time"])
    end = datetime.fromisoformat(records[-1].value["event_time"])
    assert 1.5 * 86_400 < (end - start).total_seconds() <= 2 * 86_400


def test_start_option_sets_the_first_event_time() -> None:
    start = datetime.fromisoformat("2027-03-01T00:00:00+08:00")
    config = SimulatorConfig(seed=3, institutions=60, events=100, scenarios=0, start=start)
    first = next(Simulation(config).records())
    assert first.value["event_time"] == "2027-03-01T00:00:00+08:00"


def test_generating_a_large_history_is_fast() -> None:
    import time

    began = time.perf_counter()
    count = sum(1 for _ in Simulation(SimulatorConfig(seed=1, events=20_000)).records())
    assert count > 19_000
    assert time.perf_counter() - began < 30
