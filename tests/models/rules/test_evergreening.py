"""evergreening: 3 or more extensions or rollovers of one loan."""

from __future__ import annotations

import json

from models import Category, Context, DetectorParams, DictRegistry, EntityType, Severity
from models.params import EvergreeningParams
from models.rules import Evergreening
from models.state import DictStore, KeyedState
from tests.models.rules._make import last, loan, run


def _extend(loan_id: str, n: int, previous: str | None = None, day: int = 1) -> object:
    return loan(
        loan_id,
        event_id=f"ext-{loan_id}-{n}",
        event_type="extended",
        previous_loan_id=previous,
        event_time=f"2026-11-{day:02d}T10:00:00+08:00",
    )


def _repaid(loan_id: str, day: int) -> object:
    return loan(
        loan_id,
        event_id=f"rep-{loan_id}",
        event_type="repayment",
        outstanding=0.0,
        event_time=f"2026-11-{day:02d}T10:00:00+08:00",
    )


def test_two_term_extensions_are_not_evergreening() -> None:
    assert run(Evergreening(), [_extend("A", 1), _extend("A", 2)]) == [[], []]


def test_third_term_extension_of_one_loan_is_reported() -> None:
    [finding] = last(Evergreening(), [_extend("A", 1), _extend("A", 2), _extend("A", 3)])
    assert finding.category is Category.EVERGREENING
    assert (finding.entity_type, finding.entity_id) == (EntityType.LOAN, "A")
    assert finding.institution_id == "FJ-MC-0001"
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["chain_length"] == 3
    assert finding.evidence["limit"] == 3
    assert finding.event_ids == ("ext-A-1", "ext-A-2", "ext-A-3")


def test_rollovers_carry_the_chain_to_the_new_loan() -> None:
    events = [
        _extend("A", 1, day=1),
        _repaid("A", 2),
        _extend("B", 1, previous="A", day=2),
        _repaid("B", 3),
        _extend("C", 1, previous="B", day=3),
    ]
    found = run(Evergreening(), events)
    [finding] = found[-1]
    assert finding.entity_id == "C"  # the loan of the event that completes the chain
    assert finding.evidence["chain_loans"] == ["A", "B", "C"]
    assert finding.evidence["chain_length"] == 3
    assert all(fs == [] for fs in found[:-1])


def test_rollover_counts_when_the_new_loan_arrives_before_the_old_ones_repayment() -> None:
    events = [
        _extend("A", 1),
        _extend("B", 1, previous="A"),
        _repaid("A", 2),
        _extend("B", 2, day=3),
    ]
    [finding] = last(Evergreening(), events)
    assert finding.evidence["chain_loans"] == ["A", "B"]


def test_longer_chain_reports_under_the_same_loan_id() -> None:
    events = [_extend("A", i, day=i) for i in (1, 2, 3)]
    events += [_repaid("A", 4), _extend("B", 1, previous="A", day=4)]
    found = run(Evergreening(), events)
    assert [f.entity_id for fs in found for f in fs] == ["A", "A"]
    assert found[-1][0].evidence["chain_length"] == 4
    assert found[-1][0].severity is Severity.HIGH


def test_redelivered_extension_is_not_counted_twice() -> None:
    assert last(Evergreening(), [_extend("A", 1), _extend("A", 2), _extend("A", 2)]) == []


def test_repayments_and_new_loans_are_not_extensions() -> None:
    events = [loan("A"), _repaid("A", 2), loan("B", previous_loan_id="A")]
    assert run(Evergreening(), events) == [[], [], []]


def test_chains_of_different_lenders_are_kept_apart() -> None:
    other = loan("A", event_id="x", event_type="extended", institution_id="FJ-MC-0002")
    assert last(Evergreening(), [_extend("A", 1), _extend("A", 2), other]) == []


def test_min_chain_is_configurable() -> None:
    params = DetectorParams(evergreening=EvergreeningParams(min_chain=2))
    assert len(last(Evergreening(params=params), [_extend("A", 1), _extend("A", 2)])) == 1


def _keyed() -> tuple[Evergreening, DictStore, KeyedState, Context]:
    store = DictStore()
    return Evergreening(), store, KeyedState(store, "evergreening"), Context(DictRegistry())


def test_no_value_grows_with_the_lenders_extended_loans() -> None:
    det, store, state, ctx = _keyed()
    for i in range(3000):
        det.detect(_extend(f"L{i}", 1), state, ctx)
    values = store.data["evergreening"].values()
    assert max(len(json.dumps(v)) for v in values) < 300
    assert store.get("evergreening", "FJ-MC-0001")["chains"] == 3000


def test_a_chain_closed_longer_than_the_retention_ago_is_forgotten() -> None:
    det, store, state, ctx = _keyed()
    for event in (_extend("A", 1), _extend("A", 2), _repaid("A", 2)):
        det.detect(event, state, ctx)
    late = "2026-12-05T10:00:00+08:00"
    det.detect(loan("B", event_id="ext-B", event_type="extended", event_time=late), state, ctx)
    assert store.get("evergreening", "FJ-MC-0001|ch|A") is None
    rollover = loan(
        "C", event_id="ext-C", event_type="extended", previous_loan_id="A", event_time=late
    )
    assert det.detect(rollover, state, ctx)[1] == []


def test_a_chain_closed_within_the_retention_still_passes_to_its_rollover() -> None:
    det, _, state, ctx = _keyed()
    for event in (_extend("A", 1), _extend("A", 2), _repaid("A", 2), _extend("B", 1, day=3)):
        det.detect(event, state, ctx)
    (f,) = det.detect(_extend("C", 1, previous="A", day=20), state, ctx)[1]
    assert f.evidence["chain_length"] == 3


def test_chains_in_the_old_whole_value_layout_are_split_into_keys() -> None:
    det, store, state, ctx = _keyed()
    old_chain = {"n": 2, "loans": ["L1"], "events": ["a", "b"], "closed": None, "alert": None}
    store.set("evergreening", "FJ-MC-0001", {"chains": {"L1": old_chain}})
    (f,) = det.detect(_extend("L1", 3), state, ctx)[1]
    assert f.evidence["chain_events"] == ["a", "b", "ext-L1-3"]
    assert store.get("evergreening", "FJ-MC-0001")["chains"] == 1
