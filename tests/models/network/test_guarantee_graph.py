import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models.categories import Category, EntityType, Severity
from models.detector import Context, Partition
from models.engine import RiskEngine
from models.events import Guarantee, Institution
from models.findings import Finding
from models.network import GuaranteeNetwork
from models.params import DetectorParams, GuaranteeNetworkParams, NetworkParams
from models.state import DictRegistry, DictStore, KeyedState

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def guarantee(
    guarantor: str,
    debtor: str,
    *,
    minute: int = 0,
    event_type: str = "issued",
    amount: float = 1_000_000.0,
    outstanding: float | None = None,
    guarantor_type: str = "enterprise",
    gid: str | None = None,
    institution: str = "FJ-MC-1",
    compensation: float | None = None,
) -> Guarantee:
    gid = gid or f"G-{guarantor}-{debtor}"
    return Guarantee(
        event_id=f"e-{gid}-{event_type}",
        event_type=event_type,
        event_time=T0 + timedelta(minutes=minute),
        institution_id=institution,
        guarantee_id=gid,
        guarantor_id=guarantor,
        guarantor_type=guarantor_type,
        debtor_id=debtor,
        creditor_id="BANK-1",
        amount=amount,
        outstanding=amount if outstanding is None else outstanding,
        compensation_amount=compensation,
    )


def run(
    events: list[Guarantee],
    *,
    params: DetectorParams | None = None,
    registry: DictRegistry | None = None,
) -> tuple[Any, list[list[Finding]]]:
    """Run the detector over the events; returns the graph's keys and the findings per event."""
    det = GuaranteeNetwork(params=params)
    ctx = Context(registry=registry or DictRegistry())
    store = DictStore()
    state = KeyedState(store, det.namespace or "")
    per_event = []
    for event in events:
        assert det.state_key(event) == "graph"
        _, found = det.detect(event, state, ctx)
        per_event.append(found)
    return store.data.get("guarantee_network", {}), per_event


def keys(state: dict[str, Any], kind: str) -> set[str]:
    """The ids of one kind of graph key: ``e`` edges, ``o``/``i`` adjacency, ``x`` released."""
    prefix = f"{kind}|"
    return {k.removeprefix(prefix) for k in state if k.startswith(prefix)}


def circles(per_event: list[list[Finding]]) -> list[Finding]:
    return [f for found in per_event for f in found if f.category is Category.GUARANTEE_CIRCLE]


def test_three_cycle_closes_on_its_third_edge() -> None:
    _, per_event = run(
        [guarantee("A", "B"), guarantee("B", "C"), guarantee("C", "A", institution="FJ-MC-9")]
    )
    assert per_event[:2] == [[], []]
    (f,) = per_event[2]
    assert f.category is Category.GUARANTEE_CIRCLE
    assert f.entity_type is EntityType.GUARANTEE_NETWORK
    assert (f.entity_id, f.institution_id) == ("A", "FJ-MC-9")
    assert f.evidence["members"] == ["C", "A", "B"]
    assert f.evidence["cycle_length"] == 3
    assert f.evidence["total_outstanding"] == 3_000_000.0
    assert set(f.event_ids) == {"e-G-A-B-issued", "e-G-B-C-issued", "e-G-C-A-issued"}


def test_chain_is_not_a_circle() -> None:
    _, per_event = run([guarantee("A", "B"), guarantee("B", "C"), guarantee("C", "D")])
    assert circles(per_event) == []


def test_mutual_guarantee_is_a_circle() -> None:
    _, per_event = run([guarantee("Q", "P"), guarantee("P", "Q")])
    (f,) = circles(per_event)
    assert f.entity_id == "P"
    assert f.evidence["mutual"] is True
    assert f.severity is Severity.MEDIUM


def test_cycle_closes_whatever_order_its_edges_arrive_in() -> None:
    _, per_event = run(
        [
            guarantee("C", "A", minute=9),
            guarantee("A", "B", minute=1),
            guarantee("B", "C", minute=5),
        ]
    )
    assert [len(found) for found in per_event] == [0, 0, 1]
    assert per_event[2][0].entity_id == "A"


def test_released_edge_leaves_the_graph() -> None:
    state, per_event = run(
        [
            guarantee("A", "B"),
            guarantee("B", "C"),
            guarantee("A", "B", minute=5, event_type="released", outstanding=0),
            guarantee("C", "A", minute=10),
        ]
    )
    assert circles(per_event) == []
    assert "G-A-B" not in keys(state, "e")
    assert "A" not in keys(state, "o")


def test_edge_with_nothing_outstanding_leaves_the_graph() -> None:
    state, _ = run(
        [guarantee("A", "B"), guarantee("A", "B", minute=5, event_type="recovered", outstanding=0)]
    )
    assert keys(state, "e") == set() and keys(state, "i") == set()


def test_issue_arriving_after_its_release_stays_out() -> None:
    state, per_event = run(
        [
            guarantee("A", "B", minute=5, event_type="released", outstanding=0),
            guarantee("A", "B", minute=0),
            guarantee("B", "A", minute=10),
        ]
    )
    assert circles(per_event) == []
    assert "G-A-B" not in keys(state, "e")


def test_guarantee_company_guaranteeing_clients_is_not_a_circle() -> None:
    _, per_event = run(
        [
            guarantee("FJ-GT-1", "A", guarantor_type="guarantee_company"),
            guarantee("A", "FJ-GT-1"),
        ]
    )
    assert circles(per_event) == []


@pytest.mark.parametrize(("max_length", "reported"), [(4, True), (3, False)])
def test_cycle_longer_than_the_bound_is_not_searched(max_length: int, reported: bool) -> None:
    params = DetectorParams(
        network=NetworkParams(guarantee=GuaranteeNetworkParams(max_cycle_length=max_length))
    )
    ring = ["A", "B", "C", "D"]
    events = [guarantee(g, d) for g, d in zip(ring, ring[1:] + ring[:1], strict=True)]
    assert bool(circles(run(events, params=params)[1])) is reported


def test_strongly_connected_component_size_is_in_evidence() -> None:
    # A->B->C->A and C->D->C share C: the second cycle's component has all four.
    _, per_event = run(
        [
            guarantee("A", "B"),
            guarantee("B", "C"),
            guarantee("C", "A"),
            guarantee("C", "D"),
            guarantee("D", "C"),
        ]
    )
    first, second = circles(per_event)
    assert first.evidence["scc_size"] == 3
    assert second.evidence["scc_size"] == 4
    assert second.evidence["members"] == ["D", "C"]


def test_parallel_guarantees_report_the_largest_edge() -> None:
    _, per_event = run(
        [
            guarantee("A", "B", gid="G1", amount=1.0),
            guarantee("A", "B", gid="G2", amount=5.0),
            guarantee("B", "A", gid="G3", amount=2.0),
        ]
    )
    (f,) = circles(per_event)
    assert [e["guarantee_id"] for e in f.evidence["edges"]] == ["G3", "G2"]


def company(institution_id: str, net_assets: float) -> Institution:
    return Institution(
        event_id=f"i-{institution_id}",
        event_time=T0,
        institution_id=institution_id,
        name=institution_id,
        institution_type="guarantee",
        region_code="350100",
        registered_capital=net_assets,
        net_assets=net_assets,
        license_status="active",
    )


def compensated(guarantor: str, debtor: str, amount: float, **kw: Any) -> Guarantee:
    return guarantee(
        guarantor,
        debtor,
        minute=60,
        event_type="compensated",
        outstanding=0,
        amount=amount,
        compensation=amount,
        **kw,
    )


def test_compensation_at_a_widely_guaranteed_debtor_is_contagion() -> None:
    star = [guarantee(f"E{i}", "D", amount=2_000_000.0) for i in range(4)]
    state, per_event = run(
        [*star, compensated("E0", "D", 2_000_000.0, gid="G-E0-D", institution="FJ-MC-7")]
    )
    (f,) = per_event[-1]
    assert f.category is Category.GUARANTEE_CONTAGION
    assert (f.entity_id, f.institution_id) == ("D", "FJ-MC-7")
    assert f.evidence["affected_nodes"] == 4
    assert f.evidence["total_exposure"] == 8_000_000.0
    assert "G-E0-D" not in keys(state, "e")  # paid out: the edge is gone


def test_compensation_by_a_lone_guarantee_company_is_not_contagion() -> None:
    registry = DictRegistry()
    registry.put(company("FJ-GT-1", 50_000_000.0))
    events = [
        guarantee("FJ-GT-1", "D", guarantor_type="guarantee_company", amount=3_000_000.0),
        compensated(
            "FJ-GT-1", "D", 3_000_000.0, gid="G-FJ-GT-1-D", guarantor_type="guarantee_company"
        ),
    ]
    assert run(events, registry=registry)[1][-1] == []


def test_contagion_reaches_guarantors_of_guarantors() -> None:
    # D fails; E1 guarantees D; E2, E3 guarantee E1; E4 guarantees E2.
    events = [
        guarantee("E1", "D", amount=4_000_000.0),
        guarantee("E2", "E1", amount=4_000_000.0),
        guarantee("E3", "E1", amount=4_000_000.0),
        guarantee("E4", "E2", amount=4_000_000.0),
        compensated("E1", "D", 4_000_000.0, gid="G-E1-D"),
    ]
    (f,) = run(events)[1][-1]
    levels = {x["node"]: x["level"] for x in f.evidence["exposed"]}
    assert levels == {"E1": 1, "E2": 2, "E3": 2, "E4": 3}
    assert f.evidence["total_exposure"] == 4e6 + 2e6 + 2e6 + 1e6


def test_compensation_on_an_unseen_guarantee_still_counts() -> None:
    star = [guarantee(f"E{i}", "D", amount=3_000_000.0) for i in range(1, 3)]
    (f,) = run([*star, compensated("E0", "D", 3_000_000.0, gid="G-new")])[1][-1]
    assert f.evidence["affected_nodes"] == 3


def test_engine_keeps_the_graph_in_the_network_partition() -> None:
    engine = RiskEngine(detectors=[GuaranteeNetwork()])
    store, registry = DictStore(), DictRegistry()
    found = []
    for event in [guarantee("A", "B"), guarantee("B", "A")]:
        assert engine.process(event, store=store, registry=registry).findings == []
        found += engine.process(
            event, store=store, registry=registry, partition=Partition.NETWORK
        ).findings
    assert [f.category for f in found] == [Category.GUARANTEE_CIRCLE]
    assert keys(store.data["guarantee_network"], "e") == {"G-A-B", "G-B-A"}


def test_no_value_grows_with_the_network() -> None:
    chain = [guarantee(f"E{i}", f"E{i + 1}") for i in range(3000)]
    state, per_event = run([*chain, guarantee("E3000", "E2994", minute=1)])
    assert len(keys(state, "e")) == 3001
    assert max(len(json.dumps(value)) for value in state.values()) < 200
    assert circles(per_event)[0].evidence["cycle_length"] == 7


def test_released_ids_are_remembered_up_to_a_bound() -> None:
    released = [
        guarantee("A", "B", gid=f"G{i}", event_type="released", outstanding=0)
        for i in range(10_005)
    ]
    state, _ = run(released)
    assert len(keys(state, "x")) == 10_000
    assert "G0" not in keys(state, "x") and "G5" in keys(state, "x")


def test_a_graph_in_the_old_whole_value_layout_is_split_into_keys() -> None:
    store = DictStore()
    edge = ["A", "B", 1_000_000.0, "e-G-A-B-issued", 1, T0.timestamp(), "FJ-MC-1"]
    old = {
        "edges": {"G-A-B": edge, "G-B-C": ["B", "C", *edge[2:]]},
        "out": {"A": {"G-A-B": "B"}, "B": {"G-B-C": "C"}},
        "inc": {"B": {"G-A-B": "A"}, "C": {"G-B-C": "B"}},
        "gone": {"G-X": T0.timestamp()},
    }
    store.set("guarantee_network", "graph", old)
    state = KeyedState(store, "guarantee_network")
    det, ctx = GuaranteeNetwork(), Context(registry=DictRegistry())
    _, found = det.detect(guarantee("C", "A", minute=1), state, ctx)
    assert [f.evidence["members"] for f in found] == [["C", "A", "B"]]
    assert keys(store.data["guarantee_network"], "x") == {"G-X"}
    assert store.get("guarantee_network", "graph") == {"released": 1}
