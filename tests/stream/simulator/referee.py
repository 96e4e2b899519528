"""An independent referee: replays a simulated history against domain.md's rules and reports
every breach it sees, so the tests can check that each one is a labelled scenario.

Written from domain.md, not from the simulator's code, and deliberately simple.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from models.history import HistoryRecord

CAP = 0.12
SINGLE_CLIENT = {
    "microcredit": (0.10, "net_assets"),
    "pawn": (0.25, "registered_capital"),
    "leasing": (0.30, "net_assets"),
}
NEW_BUSINESS = {("loans", "originated"), ("loans", "extended"), ("guarantees", "issued")}


@dataclass
class Breaches:
    """category -> set of entity ids (or event ids, for the event-level rules)."""

    found: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, category: str, key: str) -> None:
        self.found[category].add(key)


def _trading_days(d0: date, d1: date) -> int:
    days, d = 0, d0
    while d < d1:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days += 1
    return days


def referee(records: list[HistoryRecord]) -> Breaches:
    out = Breaches()
    registry: dict[str, dict[str, Any]] = {}
    first_seen: dict[str, datetime] = {}
    loans: dict[str, dict[str, Any]] = {}
    exposure: dict[tuple[str, str], float] = defaultdict(float)
    related: dict[str, float] = defaultdict(float)
    chains: dict[str, int] = {}
    borrowed: dict[str, deque[tuple[datetime, str]]] = defaultdict(deque)
    guarantees: dict[str, dict[str, Any]] = {}
    g_total: dict[str, float] = defaultdict(float)
    g_debtor: dict[tuple[str, str], float] = defaultdict(float)
    g_related: dict[str, float] = defaultdict(float)
    out_edges: dict[str, dict[str, str]] = defaultdict(dict)
    positions: dict[tuple[str, str], float] = defaultdict(float)
    holders: dict[str, int] = defaultdict(int)
    sides: dict[tuple[str, str], list[tuple[str, date]]] = defaultdict(list)
    for record in records:
        v = record.value
        t = datetime.fromisoformat(v["event_time"])
        if record.topic == "institutions":
            registry[v["institution_id"]] = v
            first_seen.setdefault(v["institution_id"], t)
            continue
        inst_id = v.get("institution_id") or v.get("venue_id")
        kind = (record.topic, v.get("event_type"))
        if kind in NEW_BUSINESS or record.topic == "trades":
            inst = registry.get(inst_id)
            if inst is None or inst["license_status"] != "active":
                out.add("unlicensed_activity", inst_id)
        if record.topic == "loans":
            _loan(v, t, registry, first_seen, loans, exposure, related, chains, borrowed, out)
        elif record.topic == "guarantees":
            _guarantee(v, registry, guarantees, g_total, g_debtor, g_related, out_edges, out)
        else:
            _trade(v, t, positions, holders, sides, out)
    return out


def _loan(
    v: dict[str, Any],
    t: datetime,
    registry: dict[str, dict[str, Any]],
    first_seen: dict[str, datetime],
    loans: dict[str, dict[str, Any]],
    exposure: dict[tuple[str, str], float],
    related: dict[str, float],
    chains: dict[str, int],
    borrowed: dict[str, deque[tuple[datetime, str]]],
    out: Breaches,
) -> None:
    lender, borrower, etype = v["institution_id"], v["borrower_id"], v["event_type"]
    old = loans.get(v["loan_id"], {}).get("outstanding", 0.0)
    loans[v["loan_id"]] = v
    exposure[(lender, borrower)] += v["outstanding"] - old
    if v.get("related_party"):
        related[lender] += v["outstanding"] - old
    if etype in ("originated", "extended") and v["annual_rate"] > CAP:
        out.add("usurious_rate", lender)
    if etype == "extended":
        previous = v.get("previous_loan_id")
        base = chains.get(previous, 0) if previous else chains.get(v["loan_id"], 0)
        chains[v["loan_id"]] = base + 1
        if base + 1 >= 3:
            out.add("evergreening", v["event_id"])
    inst = registry.get(lender)
    if inst is not None and etype in ("originated", "extended"):
        limit = SINGLE_CLIENT.get(inst["institution_type"])
        if limit and exposure[(lender, borrower)] > limit[0] * inst[limit[1]] + 0.005:
            out.add("borrower_concentration", borrower)
        if related[lender] > 0.15 * inst["net_assets"] + 0.005:
            out.add("related_party_lending", lender)
    if (
        etype == "originated"
        and lender in first_seen
        and t - first_seen[lender] > timedelta(hours=24)
    ):
        window = borrowed[borrower]
        window.append((t, lender))
        while window and window[0][0] < t - timedelta(days=7):
            window.popleft()
        if len({name for _, name in window}) >= 5:
            out.add("multi_lender_borrowing", borrower)


def _guarantee(
    v: dict[str, Any],
    registry: dict[str, dict[str, Any]],
    guarantees: dict[str, dict[str, Any]],
    g_total: dict[str, float],
    g_debtor: dict[tuple[str, str], float],
    g_related: dict[str, float],
    out_edges: dict[str, dict[str, str]],
    out: Breaches,
) -> None:
    gid, guarantor, debtor = v["guarantee_id"], v["guarantor_id"], v["debtor_id"]
    old = guarantees.get(gid, {}).get("outstanding", 0.0)
    guarantees[gid] = v
    delta = v["outstanding"] - old
    own = v["guarantor_type"] == "guarantee_company" and guarantor == v["institution_id"]
    if own:
        g_total[guarantor] += delta
        g_debtor[(guarantor, debtor)] += delta
        if v.get("debtor_related_party"):
            g_related[guarantor] += delta
        inst = registry.get(guarantor)
        if inst is not None and v["event_type"] == "issued":
            multiple = 15 if inst.get("serves_small_micro") else 10
            if g_total[guarantor] > multiple * inst["net_assets"] + 0.005:
                out.add("guarantee_leverage", guarantor)
            if g_debtor[(guarantor, debtor)] > 0.10 * inst["net_assets"] + 0.005:
                out.add("guarantee_concentration", debtor)
            if g_related[guarantor] > 0.15 * inst["net_assets"] + 0.005:
                out.add("guarantee_concentration", guarantor)
    if v["guarantor_type"] != "enterprise":
        return
    if v["event_type"] == "issued" and v["outstanding"] > 0:
        if _reaches(out_edges, debtor, guarantor):
            out.add("guarantee_circle", v["event_id"])
        out_edges[guarantor][gid] = debtor
    elif v["outstanding"] <= 0:
        out_edges[guarantor].pop(gid, None)


def _reaches(out_edges: dict[str, dict[str, str]], source: str, target: str) -> bool:
    seen, stack = {source}, [source]
    while stack:
        node = stack.pop()
        if node == target:
            return True
        for nxt in out_edges.get(node, {}).values():
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _trade(
    v: dict[str, Any],
    t: datetime,
    positions: dict[tuple[str, str], float],
    holders: dict[str, int],
    sides: dict[tuple[str, str], list[tuple[str, date]]],
    out: Breaches,
) -> None:
    product = v["product_id"]
    if v["trading_mode"] != "negotiated":
        out.add("prohibited_trading_mode", v["event_id"])
    if v["buyer_owner_id"] == v["seller_owner_id"]:
        out.add("wash_trade", v["event_id"])
    for owner, delta in (
        (v["buyer_owner_id"], v["quantity"]),
        (v["seller_owner_id"], -v["quantity"]),
    ):
        before = positions[(owner, product)]
        positions[(owner, product)] = before + delta
        holders[product] += (before + delta > 1e-9) - (before > 1e-9)
    if holders[product] > 200:
        out.add("holder_limit", product)
    day = t.date()
    for owner, side in ((v["buyer_owner_id"], "buy"), (v["seller_owner_id"], "sell")):
        history = sides[(owner, product)]
        for other_side, other_day in history:
            if other_side != side and _trading_days(other_day, day) < 5:
                out.add("t_plus_5_violation", owner)
        history.append((side, day))
