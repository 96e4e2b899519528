"""guarantee_circle (担保圈/互保) and guarantee_contagion over the guarantor -> debtor graph.

Enterprises that guarantee each other's loans in a ring look solvent one by one and fall
together: one default calls every guarantee around the ring. The graph is kept incrementally from
the ``guarantees`` feed in one partition (``Partition.NETWORK``); docs/networks.md says how it
would be split when it outgrows one worker.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from itertools import pairwise
from typing import Any

from models.categories import Category, DetectorKind, EntityType, Feed, Severity
from models.detector import Context, Detector, Partition
from models.events import Guarantee
from models.findings import Finding
from models.network._debtrank import Exposure, propagate
from models.network._keyed_graph import _CIRCLE, _D, _EVENT, _G, _INST, _OUT, _T, GRAPH_KEY, Graph
from models.network.graph_repair import repair_graph
from models.state import KeyedState, StateRepair

__all__ = ["GuaranteeNetwork"]


class GuaranteeNetwork(Detector):
    """Categories ``guarantee_circle`` and ``guarantee_contagion``.

    ``guarantee_circle``: an ``issued`` guarantee by an enterprise or individual whose debtor
    already reaches the guarantor through such guarantees closes a cycle (a mutual pair is a
    cycle of two). Found by a breadth-first search from the debtor, at most
    ``max_cycle_length - 1`` steps and ``max_search_nodes`` nodes, so the shortest cycle is
    reported; the strongly connected component around it is measured within the same bound.
    A guarantee company guaranteeing its clients never forms a circle.

    ``guarantee_contagion``: a ``compensated`` guarantee means its debtor failed. Distress spreads
    from the debtor to its guarantors and theirs (``_debtrank.propagate``); the finding is raised
    when at least ``contagion_min_nodes`` guarantors are exposed and the amount at risk is at
    least ``contagion_min_exposure``.

    Parameters (``params.network.guarantee``)
    ----------
    circle_guarantor_types : tuple, default ("enterprise", "individual")
    max_cycle_length : int, default 8
    max_search_nodes : int, default 2000
    contagion_depth : int, default 4
    contagion_decay : float, default 0.5
        Relative impact on a guarantor whose net assets are unknown.
    contagion_min_exposure : float, default 5,000,000 CNY
    contagion_min_nodes : int, default 3

    Example: A guarantees B, B guarantees C: nothing; C guarantees A: a circle of A, B, C named
    by A (the smallest id) with the three guarantees as its events.
    """

    feed = Feed.GUARANTEES
    categories = (Category.GUARANTEE_CIRCLE, Category.GUARANTEE_CONTAGION)
    kind = DetectorKind.NETWORK
    name = "guarantee_network"
    partition = Partition.NETWORK
    namespace = "guarantee_network"

    keyed = True

    def repair(self, entries: Iterable[tuple[str, Any]]) -> list[StateRepair]:
        return repair_graph(entries)

    def state_key(self, event: Guarantee) -> str | None:
        return GRAPH_KEY

    def detect(
        self, event: Guarantee, state: KeyedState, ctx: Context
    ) -> tuple[KeyedState, list[Finding]]:
        """Apply the event to the graph's keys and judge it."""
        graph = Graph(state)
        t = event.event_time.timestamp()
        edge = graph.edge(event.guarantee_id)
        if edge is not None and edge[_T] > t:
            return state, []  # an older event than the edge already reflects
        if event.event_type == "issued":
            return state, self._issue(graph, event, t, edge)
        findings: list[Finding] = []
        if event.event_type == "compensated":
            findings = self._contagion(graph, event, ctx, edge)
        if event.event_type == "released" or event.outstanding <= 0:
            graph.remove(event.guarantee_id, t)
        elif edge is not None:
            edge[_OUT] = event.outstanding
            edge[_T] = t
            graph.update(event.guarantee_id, edge)
        return state, findings

    # guarantee_circle -------------------------------------------------------------------------

    def _issue(
        self, graph: Graph, event: Guarantee, t: float, edge: list[Any] | None
    ) -> list[Finding]:
        gid = event.guarantee_id
        if edge is not None:  # a repeat or a correction of a known guarantee
            edge[_OUT], edge[_T] = event.outstanding, t
            graph.update(gid, edge)
            return []
        if graph.released_at(gid) >= t or event.outstanding <= 0:
            return []  # released already (the events came out of order), or nothing at stake
        p = self.params.network.guarantee
        circle = event.guarantor_type in p.circle_guarantor_types
        graph.add(event, t, circle=circle)
        if not circle:
            return []
        g, d = event.guarantor_id, event.debtor_id
        path = _shortest_path(graph, d, g, p.max_cycle_length - 1, p.max_search_nodes)
        if path is None:
            return []
        return [self._circle(graph, event, gid, path)]

    def _circle(self, graph: Graph, event: Guarantee, gid: str, path: list[str]) -> Finding:
        p = self.params.network.guarantee
        members = [event.guarantor_id, *path[:-1]]  # g -> d -> ... -> (back to g)
        cycle_gids = [gid] + [_heaviest_edge(graph, u, v) for u, v in pairwise(path)]
        edges = {x: _known(graph, x) for x in cycle_gids}
        scc, bounded = _component_size(graph, event.guarantor_id, p.max_search_nodes)
        amount = sum(edges[x][_OUT] for x in cycle_gids)
        return Finding(
            category=Category.GUARANTEE_CIRCLE,
            severity=Severity.HIGH if len(members) > 2 or scc > 2 else Severity.MEDIUM,
            score=min(1.0, 0.6 + 0.05 * len(members) + 0.02 * scc),
            feed=Feed.GUARANTEES,
            entity_type=EntityType.GUARANTEE_NETWORK,
            entity_id=min(members),
            institution_id=event.institution_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence={
                "members": members,
                "cycle_length": len(members),
                "mutual": len(members) == 2,
                "edges": [
                    {
                        "guarantee_id": x,
                        "guarantor": edges[x][_G],
                        "debtor": edges[x][_D],
                        "outstanding": edges[x][_OUT],
                        "institution_id": edges[x][_INST],
                    }
                    for x in cycle_gids
                ],
                "total_outstanding": round(amount, 2),
                "scc_size": scc,
                "scc_size_bounded": bounded,
            },
            event_ids=tuple(edges[x][_EVENT] for x in cycle_gids),
        )

    # guarantee_contagion ----------------------------------------------------------------------

    def _contagion(
        self, graph: Graph, event: Guarantee, ctx: Context, edge: list[Any] | None
    ) -> list[Finding]:
        p = self.params.network.guarantee
        if edge is None:  # compensated on a guarantee the graph never saw: count it anyway
            edge = graph.add(event, event.event_time.timestamp(), circle=False)
        paid = max(event.compensation_amount or 0.0, edge[_OUT])

        def capacity(node: str) -> float | None:
            record = ctx.registry.get(node)
            return record.net_assets if record is not None and record.net_assets > 0 else None

        exposure = propagate(
            event.debtor_id,
            incoming=graph.inc,
            edges=graph.edges,
            capacity=capacity,
            depth=p.contagion_depth,
            decay=p.contagion_decay,
            budget=p.max_search_nodes,
            amounts={event.guarantee_id: paid},
        )
        total = exposure.total
        if len(exposure.nodes) < p.contagion_min_nodes or total < p.contagion_min_exposure:
            return []
        events = [_known(graph, x)[_EVENT] for x in exposure.edges[:20]]
        return [self._contagion_finding(event, exposure, events, paid)]

    def _contagion_finding(
        self, event: Guarantee, exposure: Exposure, edge_events: list[str], paid: float
    ) -> Finding:
        p = self.params.network.guarantee
        total = exposure.total
        ranked = sorted(exposure.nodes.items(), key=lambda kv: -kv[1][0])
        event_ids = [event.event_id, *edge_events]
        return Finding(
            category=Category.GUARANTEE_CONTAGION,
            severity=(
                Severity.CRITICAL
                if total >= 5 * max(p.contagion_min_exposure, 1.0)
                else Severity.HIGH
            ),
            score=min(1.0, 0.6 + 0.05 * len(exposure.nodes)),
            feed=Feed.GUARANTEES,
            entity_type=EntityType.GUARANTEE_NETWORK,
            entity_id=event.debtor_id,
            institution_id=event.institution_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence={
                "failing_debtor": event.debtor_id,
                "compensating_guarantor": event.guarantor_id,
                "compensation_amount": paid,
                "total_exposure": round(total, 2),
                "affected_nodes": len(exposure.nodes),
                "max_level": int(max(v[2] for v in exposure.nodes.values())),
                "exposed": [
                    {
                        "node": node,
                        "exposure": round(v[0], 2),
                        "distress": round(v[1], 4),
                        "level": int(v[2]),
                    }
                    for node, v in ranked[:20]
                ],
                "truncated": exposure.truncated,
                "min_exposure": p.contagion_min_exposure,
                "min_nodes": p.contagion_min_nodes,
            },
            event_ids=tuple(dict.fromkeys(event_ids)),
        )


def _known(graph: Graph, gid: str) -> list[Any]:
    """An edge the search just walked: it is in the graph."""
    edge = graph.edge(gid)
    if edge is None:
        raise KeyError(gid)
    return edge


def _shortest_path(
    graph: Graph, source: str, target: str, max_steps: int, budget: int
) -> list[str] | None:
    """Nodes of a shortest path source -> ... -> target along circle-eligible edges, or None
    within bounds."""
    if source == target:
        return [source]
    parent: dict[str, str] = {source: source}
    queue = deque([(source, 0)])
    while queue:
        node, steps = queue.popleft()
        if steps >= max_steps:
            continue
        for nxt in set(graph.successors(node)):
            if nxt in parent:
                continue
            parent[nxt] = node
            if nxt == target:
                path = [nxt]
                while path[-1] != source:
                    path.append(parent[path[-1]])
                return path[::-1]
            if len(parent) >= budget:
                return None
            queue.append((nxt, steps + 1))
    return None


def _heaviest_edge(graph: Graph, guarantor: str, debtor: str) -> str:
    """Of the guarantees guarantor -> debtor, the one with the most outstanding."""
    out: dict[str, str] = graph.out.get(guarantor) or {}
    gids = [x for x, d in out.items() if d == debtor]
    return max(gids, key=lambda x: float(_known(graph, x)[_OUT]))


def _component_size(graph: Graph, node: str, budget: int) -> tuple[int, bool]:
    """Size of the strongly connected component of ``node`` among circle-eligible edges.

    The nodes both reachable from ``node`` and reaching it, each search bounded by ``budget``;
    the flag says a bound was hit, so the size is a lower bound.
    """
    forward, f_hit = _reach(node, graph.successors, budget)

    def predecessors(n: str) -> list[str]:
        inc: dict[str, str] = graph.inc.get(n) or {}
        return [g for x, g in inc.items() if _known(graph, x)[_CIRCLE]]

    backward, b_hit = _reach(node, predecessors, budget)
    return len(forward & backward), f_hit or b_hit


def _reach(start: str, step: Callable[[str], Iterable[str]], budget: int) -> tuple[set[str], bool]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in step(queue.popleft()):
            if nxt not in seen:
                if len(seen) >= budget:
                    return seen, True
                seen.add(nxt)
                queue.append(nxt)
    return seen, False
