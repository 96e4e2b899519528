from typing import Any

import pytest

from models.network._debtrank import propagate


def graph(pairs: list[tuple[str, str, float]]) -> tuple[dict[str, dict[str, str]], dict[str, Any]]:
    """(guarantor, debtor, outstanding) -> incoming adjacency and edges, as the graph keeps them."""
    incoming: dict[str, dict[str, str]] = {}
    edges: dict[str, list[Any]] = {}
    for i, (g, d, amount) in enumerate(pairs):
        edges[f"g{i}"] = [g, d, amount, f"e{i}"]
        incoming.setdefault(d, {})[f"g{i}"] = g
    return incoming, edges


def run(
    pairs: list[tuple[str, str, float]],
    *,
    capacity: dict[str, float] | None = None,
    depth: int = 4,
    budget: int = 100,
    **kw: Any,
):
    incoming, edges = graph(pairs)
    caps = capacity or {}
    return propagate(
        "D",
        incoming=incoming,
        edges=edges,
        capacity=caps.get,
        depth=depth,
        decay=0.5,
        budget=budget,
        **kw,
    )


def test_star_exposes_every_guarantor_in_full() -> None:
    result = run([(f"G{i}", "D", 1.0) for i in range(3)])
    assert result.total == 3.0
    assert {n: v[2] for n, v in result.nodes.items()} == {"G0": 1, "G1": 1, "G2": 1}


def test_chain_exposure_decays_with_each_level() -> None:
    result = run([("G1", "D", 1.0), ("G2", "G1", 1.0), ("G3", "G2", 1.0)])
    assert result.total == pytest.approx(1.75)
    assert [v[1] for v in result.nodes.values()] == [0.5, 0.25, 0.125]


def test_known_capacity_sets_relative_impact() -> None:
    result = run([("G1", "D", 2.0), ("G2", "G1", 4.0)], capacity={"G1": 8.0})
    assert result.nodes["G1"][1] == 0.25  # 2 lost of 8 net assets
    assert result.nodes["G2"][0] == 1.0  # 0.25 × 4


def test_each_node_passes_distress_once() -> None:
    # D <- G1 <- G2 and G2 -> D: a cycle does not bring distress back round.
    result = run([("G1", "D", 1.0), ("G2", "G1", 1.0), ("D", "G2", 1.0)])
    assert set(result.nodes) == {"G1", "G2"}


def test_depth_bounds_the_walk() -> None:
    result = run([("G1", "D", 1.0), ("G2", "G1", 1.0), ("G3", "G2", 1.0)], depth=2)
    assert set(result.nodes) == {"G1", "G2"}


def test_budget_bounds_the_walk() -> None:
    result = run([(f"G{i}", "D", 1.0) for i in range(10)], budget=4)
    assert len(result.nodes) == 4 and result.truncated


def test_amount_override_replaces_a_paid_out_edge() -> None:
    result = run([("G1", "D", 0.0)], amounts={"g0": 5.0})
    assert result.total == 5.0
