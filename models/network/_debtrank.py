"""DebtRank-style distress propagation up a guarantee graph, from a failing debtor to guarantors.

When a debtor fails, each of its guarantors owes what it guaranteed; a guarantor hit hard enough
may fail on its own debts, which puts *its* guarantors at risk, and so on. Following DebtRank
(Battiston et al., 2012), a node's distress is the share of its capacity the losses take, each
node passes distress on once, and the walk stops after ``depth`` levels or ``budget`` nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Exposure", "Lookup", "propagate"]

# Edge fields as stored by the guarantee graph: [guarantor, debtor, outstanding, ...].
_GUARANTOR, _DEBTOR, _OUTSTANDING = range(3)


class Lookup(Protocol):
    """What the walk reads the graph through: a dict, or the keyed state of the live graph."""

    def get(self, key: str, /) -> Any | None: ...


@dataclass
class Exposure:
    """Who is exposed to a failing debtor, how much, and how distressed each guarantor becomes."""

    #: node -> [amount at risk, distress in [0, 1], level (1 = guarantor of the debtor)]
    nodes: dict[str, list[float]] = field(default_factory=dict)
    #: guarantee ids of the edges the losses flowed through
    edges: list[str] = field(default_factory=list)
    truncated: bool = False

    @property
    def total(self) -> float:
        return sum(entry[0] for entry in self.nodes.values())


def propagate(
    failing: str,
    *,
    incoming: Lookup,
    edges: Lookup,
    capacity: Callable[[str], float | None],
    depth: int,
    decay: float,
    budget: int,
    amounts: Mapping[str, float] | None = None,
) -> Exposure:
    """Distress spreading from ``failing`` (distress 1) to its guarantors, level by level.

    Parameters
    ----------
    incoming : debtor -> {guarantee_id: guarantor}
    edges : guarantee_id -> [guarantor, debtor, outstanding, ...]
    capacity : node -> net assets, or None when unknown (enterprises and individuals)
        A guarantor with known capacity takes distress min(1, loss / capacity); one without
        takes ``decay`` × the distress of the node it guarantees (the largest, if several).
    amounts : guarantee_id -> amount that overrides the edge's outstanding (a compensation
        already paid out of an edge whose outstanding is now 0).

    Example: a debtor with three guarantors of 1 M each (a star) exposes 3 M at 3 nodes; a
    chain d <- g1 <- g2 <- g3 of 1 M guarantees with ``decay`` 0.5 exposes 1 + 0.5 + 0.25 M.
    """
    amounts = amounts or {}
    distress: dict[str, float] = {failing: 1.0}
    result = Exposure()
    frontier = [failing]
    for level in range(1, depth + 1):
        losses: dict[str, float] = {}
        pressure: dict[str, float] = {}
        for debtor in frontier:
            h_debtor = distress[debtor]
            if h_debtor <= 0:
                continue
            adjacent: Mapping[str, str] = incoming.get(debtor) or {}
            for gid, guarantor in adjacent.items():
                if guarantor in distress:
                    continue  # DebtRank: a node passes on its distress once
                amount = amounts.get(gid)
                if amount is None:
                    edge = edges.get(gid)
                    amount = float(edge[_OUTSTANDING]) if edge is not None else 0.0
                if amount <= 0:
                    continue
                losses[guarantor] = losses.get(guarantor, 0.0) + h_debtor * amount
                pressure[guarantor] = max(pressure.get(guarantor, 0.0), h_debtor)
                result.edges.append(gid)
        frontier = []
        for node, loss in losses.items():
            if len(result.nodes) >= budget:
                result.truncated = True
                return result
            cap = capacity(node)
            h_node = min(1.0, loss / cap) if cap else decay * pressure[node]
            distress[node] = h_node
            result.nodes[node] = [loss, h_node, float(level)]
            frontier.append(node)
        if not frontier:
            break
    return result
