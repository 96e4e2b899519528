from __future__ import annotations

import json
from typing import Any

from models.categories import Category, EntityType
from models.detector import Context, Detector
from models.findings import Finding
from models.params import DetectorParams, StatsParams
from models.state import DictRegistry
from models.stats import CompensationSpike, DelinquencySpike, LendingSurge, VolumeAnomaly
from tests.models.stats.factories import guarantee, loan, trade

CTX = Context(registry=DictRegistry())
EVIDENCE_KEYS = {"observed", "baseline", "threshold", "scale", "window_hours", "method"}


def run(det: Detector, events: list[Any], state: Any = None) -> tuple[Any, list[Finding]]:
    out: list[Finding] = []
    for e in events:
        state, found = det.detect(e, state, CTX)
        out.extend(found)
    return state, out


def loan_history(overdue_per_day: list[int], *, book: int = 500) -> list[Any]:
    """A book re-reported at hour 0, then 6 repayments a day and the given overdue counts."""
    events = [loan(i * 0.001) for i in range(book)]
    for day, overdue in enumerate(overdue_per_day, start=1):
        for i in range(6):
            events.append(loan(day * 24 + 8 + i, "repayment", outstanding=50.0))
        for i in range(overdue):
            events.append(loan(day * 24 + 9 + i * 8 / max(overdue, 1), "overdue"))
    return sorted(events, key=lambda e: e.event_time)


def test_delinquency_flat_then_jump_fires_with_evidence() -> None:
    _, found = run(DelinquencySpike(), loan_history([2] * 8 + [15, 15] + [2] * 4))
    fired = [f for f in found if not f.cleared]
    assert fired, "a seven-fold jump must fire"
    first = fired[0]
    assert (first.category, first.entity_type, first.entity_id, first.institution_id) == (
        Category.DELINQUENCY_SPIKE,
        EntityType.INSTITUTION,
        "FJ-MC-0001",
        "FJ-MC-0001",
    )
    assert first.event_time.day == 14  # day 9 of the history (T0 is the 5th)
    assert first.evidence.keys() >= EVIDENCE_KEYS
    assert first.evidence["observed"] >= first.evidence["threshold"]
    assert first.evidence["exposure"] == 500


def test_delinquency_spike_clears_afterwards() -> None:
    _, found = run(DelinquencySpike(), loan_history([2] * 8 + [15, 15] + [2] * 4))
    assert found[-1].cleared
    fired = [f.evidence["transition"] for f in found if not f.cleared]
    assert fired[0] == "fire"
    assert set(fired[1:]) <= {"repeat"}


def test_delinquency_flat_does_not_fire() -> None:
    _, found = run(DelinquencySpike(), loan_history([2, 3, 1, 2, 4, 2, 1, 3, 2, 2, 3, 1, 2, 4]))
    assert found == []


def test_delinquency_state_is_json_able() -> None:
    state, _ = run(DelinquencySpike(), loan_history([2] * 5))
    assert json.loads(json.dumps(state)) == state


def test_repaid_and_written_off_loans_leave_the_exposure() -> None:
    state, _ = run(
        DelinquencySpike(),
        [
            loan(0),
            loan(0.1),
            loan(0.2),
            loan(1, "repayment", outstanding=0.0),
            loan(2, "written_off"),
        ],
    )
    assert state["active"] == 1.0


def guarantee_history(compensated_per_day: list[int], **kw: Any) -> list[Any]:
    events = [guarantee(i * 0.001, **kw) for i in range(300)]
    for day, n in enumerate(compensated_per_day, start=1):
        events.append(guarantee(day * 24 + 8, **kw))
        for i in range(n):
            events.append(guarantee(day * 24 + 9 + i * 0.5, "compensated", **kw))
    return sorted(events, key=lambda e: e.event_time)


def test_compensation_spike_fires_for_a_guarantee_company() -> None:
    _, found = run(CompensationSpike(), guarantee_history([1] * 8 + [12] + [1] * 3))
    assert {f.entity_id for f in found} == {"FJ-GT-0001"}
    assert found[0].evidence["transition"] == "fire"
    assert found[0].category is Category.COMPENSATION_SPIKE


def test_enterprise_guarantors_are_not_judged() -> None:
    det = CompensationSpike()
    events = guarantee_history(
        [1] * 8 + [12], guarantor_type="enterprise", guarantor_id="91350100MA0000001X"
    )
    assert det.state_key(events[0]) is None
    assert run(det, events) == (None, [])


def origination_history(per_day: list[int], *, book: int = 400) -> list[Any]:
    events = [loan(i * 0.02) for i in range(book)]  # the existing book, re-reported
    for day, n in enumerate(per_day, start=1):
        for i in range(n):
            events.append(loan(day * 24 + 8 + i * 10 / max(n, 1)))
    return sorted(events, key=lambda e: e.event_time)


def test_lending_surge_fires_on_several_fold_originations() -> None:
    _, found = run(LendingSurge(), origination_history([4] * 8 + [25, 25] + [4] * 3))
    fired = [f for f in found if not f.cleared]
    assert fired and fired[0].category is Category.LENDING_SURGE
    assert fired[0].evidence["metric"] == "count"
    assert set(fired[0].evidence["metrics"]) == {"count"}


def test_lending_surge_judges_the_amount_when_enabled() -> None:
    params = DetectorParams(stats=StatsParams(lending_surge={"use_amount": True}))
    events = origination_history([4] * 8)
    events += [loan(9 * 24 + 8 + i, principal=2_000_000.0) for i in range(4)]
    _, found = run(LendingSurge(params=params), events)
    assert [f.evidence["metric"] for f in found] == ["amount"]
    assert set(found[0].evidence["metrics"]) == {"count", "amount"}


def test_re_reported_book_is_not_a_surge() -> None:
    assert run(LendingSurge(), origination_history([4] * 10))[1] == []


def test_collections_and_overdues_are_not_new_business() -> None:
    events = origination_history([4] * 8)
    events += [loan(9 * 24 + 8 + i * 0.1, "repayment", outstanding=10.0) for i in range(60)]
    assert run(LendingSurge(), events)[1] == []


def test_amount_can_be_switched_off() -> None:
    params = DetectorParams(stats=StatsParams(lending_surge={"use_amount": False}))
    state, found = run(LendingSurge(params=params), origination_history([4] * 8 + [25] + [4] * 2))
    assert found and "amount" not in found[0].evidence["metrics"]
    assert state["series"]["amount"]["n"] == 0


def volume_history(
    per_day: list[int], quantity: float = 100.0, spike_qty: float = 100.0
) -> list[Any]:
    events = []
    base = len(per_day) - 1
    for day, n in enumerate(per_day):
        q = spike_qty if day == base else quantity
        for i in range(n):
            events.append(trade(day * 24 + 9 + i * 6 / max(n, 1), quantity=q))
    return events


def test_volume_anomaly_fires_on_a_quantity_jump() -> None:
    _, found = run(VolumeAnomaly(), volume_history([8] * 9 + [8], spike_qty=1500.0))
    assert found and found[0].entity_type is EntityType.PRODUCT
    assert (found[0].entity_id, found[0].institution_id) == ("HX-EQ-1", "FJ-TV-0001")
    assert found[0].evidence.keys() >= EVIDENCE_KEYS


def test_volume_steady_trading_does_not_fire() -> None:
    assert run(VolumeAnomaly(), volume_history([8, 6, 9, 7, 8, 10, 6, 8, 7, 9, 8]))[1] == []


def test_out_of_order_events_are_tolerated() -> None:
    events = loan_history([2] * 8 + [15, 15])
    late = loan(9 * 24 + 12, "overdue")
    shuffled = [*events[:-3], events[-1], late, events[-3], events[-2]]
    _, found = run(DelinquencySpike(), shuffled)
    assert any(not f.cleared for f in found)


def test_event_ids_sample_the_counted_events_of_the_window() -> None:
    events = loan_history([2] * 8 + [15, 15])
    by_id = {e.event_id: e for e in events}
    _, found = run(DelinquencySpike(), events)
    first = found[0]
    sample = [by_id[i] for i in first.event_ids]
    assert all(e.event_type == "overdue" for e in sample)
    assert all((first.event_time - e.event_time).total_seconds() < 24 * 3600 for e in sample)
    assert 1 < len(sample) <= 10
