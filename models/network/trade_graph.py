"""wash_trade: trades that change no beneficial ownership, only the price and volume on record.

A venue's price and volume are what investors and the Office see; an owner who trades with
itself, or a ring of accounts passing the same lot around, paints both without any real change
of hands. Judged per product, the Kafka key of ``trades``.
"""

from __future__ import annotations

import bisect
from typing import Any

from models.categories import Category, DetectorKind, EntityType, Feed, Severity
from models.detector import Context, Detector, Partition
from models.events import Trade
from models.findings import Finding
from models.params import WashTradeParams

__all__ = ["WashTrade"]

# A kept trade: [epoch seconds, seller account, buyer account, quantity, price, trade id,
#                event id, seller owner, buyer owner].
_T, _SELLER, _BUYER, _QTY, _PRICE, _TRADE, _EVENT, _S_OWNER, _B_OWNER = range(9)


class WashTrade(Detector):
    """Category ``wash_trade``: the same owner on both sides, or a lot moving around a ring.

    *Same owner*: ``buyer_owner_id == seller_owner_id`` (one account trading with itself
    included) is reported at once. *Circular*: a trade x -> y (seller -> buyer) that closes a
    ring y -> ... -> x of earlier trades in the same product within ``window_hours``, of
    ``min_cycle_accounts`` to ``max_cycle_accounts`` accounts, each leg within
    ``quantity_tolerance`` and ``price_tolerance`` of the closing trade, and legs following one
    another in time around the ring (the lot comes back to where it started).

    Parameters (``params.network.wash_trade``)
    ----------
    window_hours : float, default 72
    min_cycle_accounts, max_cycle_accounts : int, default 2 and 4
    quantity_tolerance, price_tolerance : float, default 0.02 and 0.05 (relative)
    max_trades : int, default 256
        Recent trades kept per product (oldest dropped first).

    Example: A sells 1,000 to B, B sells 1,000 to C, C sells 1,000 back to A at the same price
    within a day: one wash_trade naming the product, accounts A, B, C and the three trades.
    """

    feed = Feed.TRADES
    categories = (Category.WASH_TRADE,)
    kind = DetectorKind.NETWORK
    name = "wash_trade"
    partition = Partition.FEED
    namespace = "wash_trade"

    def state_key(self, event: Trade) -> str | None:
        return event.product_id

    def detect(
        self, event: Trade, state: dict[str, Any] | None, ctx: Context
    ) -> tuple[dict[str, Any], list[Finding]]:
        """Judge the trade against the product's recent trades, indexed by seller account."""
        p = self.params.network.wash_trade
        state = state if state is not None else {"sellers": {}, "count": 0}
        sellers: dict[str, list[list[Any]]] = state["sellers"]
        own = sellers.get(event.seller_account, [])
        t = event.event_time.timestamp()
        if _kept(own, t, event.trade_id):
            return state, []  # a redelivered trade
        if event.buyer_owner_id == event.seller_owner_id:
            # Nothing changed hands: keep it out of the rings, report it on its own.
            return state, [self._same_owner(event)]
        window = p.window_hours * 3600.0
        entry = [
            t,
            event.seller_account,
            event.buyer_account,
            event.quantity,
            event.price,
            event.trade_id,
            event.event_id,
            event.seller_owner_id,
            event.buyer_owner_id,
        ]
        ring = _closing_ring(sellers, entry, window, p)
        bisect.insort(own, entry, key=lambda e: e[_T])
        sellers[event.seller_account] = own
        state["count"] += 1
        if state["count"] > p.max_trades:
            state["count"] = _sweep(sellers, window, keep=max(1, p.max_trades * 3 // 4))
        if ring is None:
            return state, []
        return state, [self._circular(event, [entry, *ring])]

    def _same_owner(self, event: Trade) -> Finding:
        return Finding(
            category=Category.WASH_TRADE,
            severity=Severity.HIGH,
            score=0.95 if event.buyer_account == event.seller_account else 0.9,
            feed=Feed.TRADES,
            entity_type=EntityType.PRODUCT,
            entity_id=event.product_id,
            institution_id=event.venue_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence={
                "pattern": "same_owner",
                "owner": event.buyer_owner_id,
                "accounts": sorted({event.buyer_account, event.seller_account}),
                "trade_ids": [event.trade_id],
                "quantity": event.quantity,
                "price": event.price,
            },
            event_ids=(event.event_id,),
        )

    def _circular(self, event: Trade, legs: list[list[Any]]) -> Finding:
        accounts = [leg[_SELLER] for leg in legs]
        owners = [leg[_S_OWNER] for leg in legs]
        return Finding(
            category=Category.WASH_TRADE,
            severity=Severity.HIGH if len(set(owners)) < len(owners) else Severity.MEDIUM,
            score=min(1.0, 0.7 + 0.05 * len(legs)),
            feed=Feed.TRADES,
            entity_type=EntityType.PRODUCT,
            entity_id=event.product_id,
            institution_id=event.venue_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence={
                "pattern": "circular",
                "accounts": accounts,
                "owners": owners,
                "trade_ids": [leg[_TRADE] for leg in legs],
                "quantities": [leg[_QTY] for leg in legs],
                "prices": [leg[_PRICE] for leg in legs],
                "span_hours": round(
                    (max(x[_T] for x in legs) - min(x[_T] for x in legs)) / 3600, 2
                ),
            },
            event_ids=tuple(leg[_EVENT] for leg in legs),
        )


def _closing_ring(
    sellers: dict[str, list[list[Any]]], entry: list[Any], window: float, p: WashTradeParams
) -> list[list[Any]] | None:
    """Earlier legs y -> ... -> x that the new trade x -> y closes into a ring, or None.

    A depth-first walk over sales by each account in turn (at most ``max_cycle_accounts - 1``
    deep), following only legs close in time, quantity and price to the new trade.
    """
    t, qty, price = entry[_T], entry[_QTY], entry[_PRICE]
    goal = entry[_SELLER]
    max_legs = p.max_cycle_accounts - 1

    def legs_from(account: str) -> list[list[Any]]:
        return [
            leg
            for leg in sellers.get(account, ())
            if abs(leg[_T] - t) <= window
            and abs(leg[_QTY] - qty) <= p.quantity_tolerance * qty
            and abs(leg[_PRICE] - price) <= p.price_tolerance * price
        ]

    def walk(account: str, path: list[list[Any]], seen: set[str]) -> list[list[Any]] | None:
        for leg in legs_from(account):
            buyer = leg[_BUYER]
            ring = [*path, leg]
            if buyer == goal:
                if len(ring) + 1 >= p.min_cycle_accounts and _is_round_trip([entry, *ring], window):
                    return ring
                continue
            if buyer in seen or len(ring) >= max_legs:
                continue
            found = walk(buyer, ring, seen | {buyer})
            if found is not None:
                return found
        return None

    return walk(entry[_BUYER], [], {entry[_BUYER], goal})


def _kept(legs: list[list[Any]], t: float, trade_id: str) -> bool:
    """Whether ``trade_id`` at time ``t`` is already among ``legs`` (sorted by time)."""
    i = bisect.bisect_left(legs, t, key=lambda e: e[_T])
    while i < len(legs) and legs[i][_T] == t:
        if legs[i][_TRADE] == trade_id:
            return True
        i += 1
    return False


def _sweep(sellers: dict[str, list[list[Any]]], window: float, *, keep: int) -> int:
    """Drop trades older than a window before the newest, then the oldest beyond ``keep``.

    Runs when the count passes ``max_trades`` and leaves ``keep`` (three quarters of it), so
    its O(n) cost is spread over many trades. Returns how many trades remain.
    """
    newest = max(legs[-1][_T] for legs in sellers.values() if legs)
    times = sorted(leg[_T] for legs in sellers.values() for leg in legs)
    cutoff = newest - window
    if len(times) > keep:
        cutoff = max(cutoff, times[len(times) - keep])
    count = 0
    for account in list(sellers):
        legs = sellers[account]
        del legs[: bisect.bisect_left(legs, cutoff, key=lambda e: e[_T])]
        if legs:
            count += len(legs)
        else:
            del sellers[account]
    return count


def _is_round_trip(legs: list[list[Any]], window: float) -> bool:
    """Legs in ring order follow one another in time (one rotation is sorted) within a window."""
    times = [leg[_T] for leg in legs]
    if max(times) - min(times) > window:
        return False
    descents = sum(1 for a, b in zip(times, times[1:] + times[:1], strict=True) if b < a)
    return descents <= 1
