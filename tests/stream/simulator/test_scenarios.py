"""Injected scenarios: every category labelled as an alert would name it."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from models.categories import Category
from stream.simulator import INJECTED_CATEGORIES, Simulation, SimulatorConfig
from stream.simulator.scenarios import ENTITY_TYPES
from tests.stream.simulator.conftest import History

C = Category


def test_every_category_is_injected_and_labelled(history: History) -> None:
    assert {label.category for label in history.labels} == set(INJECTED_CATEGORIES)


def test_label_event_ids_are_events_of_the_history(history: History) -> None:
    ids = {r.value["event_id"] for r in history.records}
    for label in history.labels:
        assert label.event_ids, label
        assert set(label.event_ids) <= ids, label


def test_labels_name_the_entity_type_alerts_use(history: History) -> None:
    for label in history.labels:
        if label.category == C.GUARANTEE_CONCENTRATION:
            assert label.entity_type in ("borrower", "institution")
        else:
            assert label.entity_type == ENTITY_TYPES[label.category]


def test_label_windows_lie_within_the_history(history: History) -> None:
    first = datetime.fromisoformat(history.records[0].value["event_time"])
    last = datetime.fromisoformat(history.records[-1].value["event_time"])
    for label in history.labels:
        assert first + timedelta(days=3) <= label.start <= label.end <= last, label


def _events(history: History) -> dict[str, dict[str, object]]:
    return {str(r.value["event_id"]): r.value for r in history.records}


@pytest.mark.parametrize(
    ("category", "field"),
    [
        (C.USURIOUS_RATE, "loan_id"),
        (C.LOAN_ANOMALY, "loan_id"),
        (C.DEFAULT_RISK, "loan_id"),
        (C.EVERGREENING, "loan_id"),
        (C.BORROWER_CONCENTRATION, "borrower_id"),
        (C.MULTI_LENDER_BORROWING, "borrower_id"),
        (C.WASH_TRADE, "product_id"),
        (C.PRICE_MANIPULATION, "product_id"),
        (C.VOLUME_ANOMALY, "product_id"),
        (C.PROHIBITED_TRADING_MODE, "product_id"),
        (C.HOLDER_LIMIT, "product_id"),
        (C.GUARANTEE_CONTAGION, "debtor_id"),
    ],
)
def test_label_entity_is_named_by_its_events(
    history: History, category: Category, field: str
) -> None:
    events = _events(history)
    labels = [label for label in history.labels if label.category == category]
    assert labels
    for label in labels:
        assert label.entity_id in {events[e].get(field) for e in label.event_ids}, label


def test_evergreening_label_names_the_loan_that_completes_the_chain(history: History) -> None:
    events = _events(history)
    for label in (x for x in history.labels if x.category == C.EVERGREENING):
        extended = [events[e] for e in label.event_ids if events[e]["event_type"] == "extended"]
        assert len(extended) >= 3
        assert extended[2]["loan_id"] == label.entity_id
        assert [e.get("previous_loan_id") is not None for e in extended[:3]] == [False, True, True]


def test_multi_lender_label_names_the_fifth_lender(history: History) -> None:
    events = _events(history)
    for label in (x for x in history.labels if x.category == C.MULTI_LENDER_BORROWING):
        loans = sorted((events[e] for e in label.event_ids), key=lambda v: str(v["event_time"]))
        assert len({v["institution_id"] for v in loans}) >= 5
        assert loans[4]["institution_id"] == label.institution_id
        assert label.start == datetime.fromisoformat(str(loans[4]["event_time"]))


def test_guarantee_circle_label_names_the_smallest_member_of_a_ring(history: History) -> None:
    events = _events(history)
    for label in (x for x in history.labels if x.category == C.GUARANTEE_CIRCLE):
        edges = [events[e] for e in label.event_ids]
        members = {str(v["guarantor_id"]) for v in edges}
        assert members == {str(v["debtor_id"]) for v in edges}  # every member gives and gets
        assert label.entity_id == min(members)
        assert {v["institution_id"] for v in edges} == {label.institution_id}


def test_wash_trade_owners_also_carry_t_plus_5_labels(history: History) -> None:
    events = _events(history)
    t5 = {x.entity_id for x in history.labels if x.category == C.T_PLUS_5_VIOLATION}
    for label in (x for x in history.labels if x.category == C.WASH_TRADE):
        owners = {str(events[e]["buyer_owner_id"]) for e in label.event_ids}
        assert owners <= t5


def test_escalation_label_spans_three_categories_at_its_institution(history: History) -> None:
    escalations = [x for x in history.labels if x.category == C.INSTITUTION_RISK_ESCALATION]
    assert escalations
    for label in escalations:
        parts = {
            x.category
            for x in history.labels
            if x.institution_id == label.institution_id
            and x.category != C.INSTITUTION_RISK_ESCALATION
            and abs((x.start - label.start).total_seconds()) < 7 * 86_400
        }
        assert len(parts) >= 3, (label, parts)


def test_regional_cluster_label_spans_three_institutions_of_its_prefecture(
    history: History,
) -> None:
    regions = {
        r.value["institution_id"]: r.value["region_code"]
        for r in history.records
        if r.topic == "institutions"
    }
    spikes = {C.DELINQUENCY_SPIKE, C.COMPENSATION_SPIKE}
    for label in (x for x in history.labels if x.category == C.REGIONAL_CLUSTER):
        members = {
            x.institution_id
            for x in history.labels
            if x.category in spikes
            and regions.get(x.institution_id) == label.entity_id
            and abs((x.start - label.start).total_seconds()) < 7 * 86_400
        }
        assert len(members) >= 3
        assert label.institution_id == ""


def test_unlicensed_business_follows_a_withdrawn_licence_or_no_record(history: History) -> None:
    status: dict[str, str] = {}
    doing: dict[str, list[str]] = defaultdict(list)
    labelled = {x.entity_id for x in history.labels if x.category == C.UNLICENSED_ACTIVITY}
    for r in history.records:
        v = r.value
        if r.topic == "institutions":
            status[str(v["institution_id"])] = str(v["license_status"])
            continue
        inst = str(v.get("institution_id") or v.get("venue_id"))
        if inst in labelled:
            doing[inst].append(status.get(inst, "no record"))
    assert labelled
    for inst in labelled:
        assert any(s != "active" for s in doing[inst]), inst


def test_a_scenario_mix_injects_only_the_named_categories() -> None:
    config = SimulatorConfig(
        seed=4, institutions=60, duration=12 * 86_400, scenarios={"usurious_rate": 3}
    )
    sim = Simulation(config)
    records = list(sim.records())
    assert [x.category for x in sim.labels] == [C.USURIOUS_RATE] * 3
    over_cap = [r for r in records if r.topic == "loans" and r.value["annual_rate"] > 0.12]
    assert {r.value["event_id"] for r in over_cap} <= {e for x in sim.labels for e in x.event_ids}
