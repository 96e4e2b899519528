"""The guarantee graph in keyed state: a key per edge and per node, never one value for the
whole network, so no state value and no changelog record grows with it (docs/networks.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models.events import Guarantee
from models.state import KeyedState

__all__ = ["GRAPH_KEY", "Graph"]

#: The state key of every guarantee event (the summary key: how many ids were released).
GRAPH_KEY = "graph"
#: Released guarantee ids remembered, so a late ``issued`` does not bring an edge back.
_TOMBSTONES = 10_000
# Edge fields: [guarantor, debtor, outstanding, issuing event id, circle-eligible (0/1),
#               event time of the latest applied event, reporting institution].
_G, _D, _OUT, _EVENT, _CIRCLE, _T, _INST = range(7)


class _Keys:
    """One kind of key of the graph (``e|``, ``o|``, ``i|``), read like a dict."""

    __slots__ = ("prefix", "state")

    def __init__(self, state: KeyedState, kind: str) -> None:
        self.state = state
        self.prefix = f"{kind}|"

    def get(self, key: str, /) -> Any | None:
        return self.state.get(self.prefix + key)

    def set(self, key: str, value: Any) -> None:
        self.state.set(self.prefix + key, value)

    def delete(self, key: str) -> None:
        self.state.delete(self.prefix + key)


class Graph:
    """The guarantor -> debtor graph in a keyed state: a key per edge and per node, never one
    value for the whole network (so no changelog record grows with it).

    ``e|guarantee_id`` is an edge; ``o|guarantor`` its circle-eligible edges out
    ({guarantee_id: debtor}); ``i|debtor`` every edge in ({guarantee_id: guarantor}), since
    guarantee companies carry contagion; ``x|guarantee_id`` a released id ([time, number]),
    ``r|n`` the ring of the last ``_TOMBSTONES`` releases, and ``graph`` the release count.
    A node's values grow with its own degree, not with the network.
    """

    __slots__ = ("edges", "gone", "inc", "out", "state")

    def __init__(self, state: KeyedState) -> None:
        self.state = state
        self.edges = _Keys(state, "e")
        self.out = _Keys(state, "o")
        self.inc = _Keys(state, "i")
        self.gone = _Keys(state, "x")
        whole = state.get(GRAPH_KEY)
        if whole is not None and "edges" in whole:
            self._split_whole_graph(whole)

    def _split_whole_graph(self, old: dict[str, Any]) -> None:
        """Write a graph kept in the old layout (one value ``{edges, out, inc, gone}`` under
        ``graph``, state written before the graph was keyed) as keys, once."""
        for gid, edge in old["edges"].items():
            self.edges.set(gid, list(edge))
        for side, nodes in ((self.out, old["out"]), (self.inc, old["inc"])):
            for node, adjacent in nodes.items():
                side.set(node, dict(adjacent))
        for n, (gid, t) in enumerate(old["gone"].items()):
            self.gone.set(gid, [t, n])
            self.state.set(f"r|{n % _TOMBSTONES}", gid)
        self.state.set(GRAPH_KEY, {"released": len(old["gone"])})

    def edge(self, gid: str) -> list[Any] | None:
        found: list[Any] | None = self.edges.get(gid)
        return found

    def released_at(self, gid: str) -> float:
        """When the id was released, or minus infinity if it is not remembered as released."""
        found = self.gone.get(gid)
        return float(found[0]) if found is not None else float("-inf")

    def successors(self, node: str) -> Iterable[str]:
        """Debtors ``node`` guarantees through circle-eligible edges."""
        out: dict[str, str] = self.out.get(node) or {}
        return out.values()

    def add(self, event: Guarantee, t: float, *, circle: bool) -> list[Any]:
        g, d, gid = event.guarantor_id, event.debtor_id, event.guarantee_id
        edge = [g, d, event.outstanding, event.event_id, int(circle), t, event.institution_id]
        self.edges.set(gid, edge)
        _link(self.inc, d, gid, g)
        if circle:
            _link(self.out, g, gid, d)
        return edge

    def update(self, gid: str, edge: list[Any]) -> None:
        self.edges.set(gid, edge)

    def remove(self, gid: str, t: float) -> None:
        """Drop an edge (released, or nothing outstanding) and remember its id against late
        events; the id released ``_TOMBSTONES`` releases ago is forgotten."""
        edge = self.edge(gid)
        totals: dict[str, Any] = self.state.get(GRAPH_KEY) or {"released": 0}
        n: int = totals["released"]
        totals["released"] = n + 1
        self.state.set(GRAPH_KEY, totals)
        slot = f"r|{n % _TOMBSTONES}"
        evicted: str | None = self.state.get(slot)
        if evicted is not None and evicted != gid:
            stone = self.gone.get(evicted)
            if stone is not None and stone[1] == n - _TOMBSTONES:
                self.gone.delete(evicted)
        self.state.set(slot, gid)
        self.gone.set(gid, [t, n])
        if edge is None:
            return
        self.edges.delete(gid)
        _unlink(self.inc, edge[_D], gid)
        _unlink(self.out, edge[_G], gid)


def _link(side: _Keys, node: str, gid: str, other: str) -> None:
    adjacent: dict[str, str] = side.get(node) or {}
    adjacent[gid] = other
    side.set(node, adjacent)


def _unlink(side: _Keys, node: str, gid: str) -> None:
    adjacent: dict[str, str] | None = side.get(node)
    if adjacent is None or gid not in adjacent:
        return
    del adjacent[gid]
    if adjacent:
        side.set(node, adjacent)
    else:
        side.delete(node)
