"""Rebuild the guarantee graph's adjacency from its edges, after a recovery.

The graph keeps each guarantee as an edge key (``e|gid``) and, derived from the edges, each
node's adjacency (``o|guarantor``: circle-eligible edges out; ``i|debtor``: every edge in) and
the release count (``graph``). They reach the changelog as separate records, so a crash that
cuts a flush short can keep an edge and lose the adjacency entry the same event added; the
replayed event then finds its edge in place and links nothing, and a circle through it is never
seen (``models.book_repair`` tells the same story for books). Edges are the facts: the worker
rebuilds the rest from them here once the graph has been recovered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from models.network._keyed_graph import GRAPH_KEY
from models.state import StateRepair

__all__ = ["repair_graph"]

_G, _D, _CIRCLE = 0, 1, 4
_EDGE_FIELDS = 7


def repair_graph(entries: Iterable[tuple[str, Any]]) -> list[StateRepair]:
    """The adjacency and release-count keys that disagree with the edges, as one repair."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    inc: dict[str, dict[str, str]] = defaultdict(dict)
    stored: dict[str, Any] = {}
    released = 0
    witness = None
    for key, value in entries:
        kind, _, rest = key.partition("|")
        if kind == "e" and isinstance(value, list) and len(value) >= _EDGE_FIELDS:
            guarantor, debtor = str(value[_G]), str(value[_D])
            inc[debtor][rest] = guarantor
            if value[_CIRCLE]:
                out[guarantor][rest] = debtor
        elif kind in ("o", "i") and isinstance(value, dict):
            stored[key] = value
        elif kind == "x" and isinstance(value, list) and len(value) == 2:
            released = max(released, int(value[1]) + 1)
        elif key == GRAPH_KEY:
            if isinstance(value, dict) and "edges" in value:
                return []  # the old one-value layout: split on its first read
            stored[key] = value
        else:
            continue
        witness = witness or key
    changes = _adjacency_changes("o", out, stored) | _adjacency_changes("i", inc, stored)
    count = stored.get(GRAPH_KEY) or {"released": 0}
    if released > int(count.get("released", 0)):
        changes[GRAPH_KEY] = {**count, "released": released}
    if not changes or witness is None:
        return []
    return [StateRepair(GRAPH_KEY, witness, changes)]


def _adjacency_changes(
    kind: str, derived: dict[str, dict[str, str]], stored: dict[str, Any]
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for node, adjacent in derived.items():
        key = f"{kind}|{node}"
        if stored.get(key) != adjacent:
            changes[key] = adjacent
    prefix = f"{kind}|"
    for key in stored:
        if key.startswith(prefix) and key[len(prefix) :] not in derived:
            changes[key] = None
    return changes
