"""The guarantee graph's adjacency rebuilt from its edges after a changelog flush cut short."""

from __future__ import annotations

from typing import Any

from models.detector import Context
from models.network import GuaranteeNetwork
from models.network.graph_repair import repair_graph
from models.state import DictRegistry, DictStore, KeyedState
from tests.models.network.test_guarantee_graph import circles, guarantee, run


def apply(data: dict[str, Any]) -> int:
    """Apply the repairs to the graph's keys; how many keys changed."""
    changed = 0
    for fix in repair_graph(list(data.items())):
        for key, value in fix.changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
            changed += 1
    return changed


def replay(data: dict[str, Any], *events: Any) -> list[Any]:
    det = GuaranteeNetwork()
    store = DictStore({"guarantee_network": data})
    state = KeyedState(store, "guarantee_network")
    return [det.detect(e, state, Context(registry=DictRegistry()))[1] for e in events]


def test_a_consistent_graph_needs_nothing() -> None:
    data, _ = run([guarantee("A", "B"), guarantee("B", "C", gid="G2")])
    assert repair_graph(data.items()) == []


def test_an_edge_whose_adjacency_was_lost_still_closes_a_later_circle() -> None:
    """The edge B -> C logged, the ``o|B`` and ``i|C`` it added not: without the repair the
    path A -> B -> C is invisible, and C -> A closing the circle later is not reported."""
    data, _ = run([guarantee("A", "B"), guarantee("B", "C")])
    del data["o|B"], data["i|C"]
    unrepaired = dict(data)

    assert apply(data) == 2
    assert circles(replay(data, guarantee("C", "A")))
    assert not circles(replay(unrepaired, guarantee("C", "A")))


def test_adjacency_naming_a_lost_edge_is_dropped() -> None:
    data, _ = run([guarantee("A", "B")])
    del data["e|G-A-B"]

    apply(data)

    assert not any(key.startswith(("o|", "i|")) for key in data)


def test_a_lost_release_count_is_raised_to_the_releases_remembered() -> None:
    data, _ = run([guarantee("A", "B"), guarantee("A", "B", minute=5, event_type="released")])
    data["graph"] = {"released": 0}

    apply(data)

    assert data["graph"] == {"released": 1}


def test_the_old_one_value_layout_is_left_for_its_first_read() -> None:
    data = {"graph": {"edges": {}, "out": {}, "inc": {}, "gone": {}}, "o|A": {"G": "B"}}
    assert repair_graph(data.items()) == []
