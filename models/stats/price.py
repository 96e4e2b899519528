"""price_manipulation: an abnormal price move on a product, driven by a few owners.

Method: per product, the log move of the last price over a trailing window (24 one-hour
buckets by default: ``ln(last / close before the window)``) is compared with the product's own
robust volatility of such moves (EWMA of ``|move|`` at each bucket close, × √(π/2)). A move is
abnormal when ``|move| ≥ max(z_threshold · volatility, min_move)`` with at least ``min_trades``
trades in the window. It is *manipulation* when at most ``max_accounts`` beneficial owners hold
``min_share`` or more of the driving side's quantity in the window (the buyers of a rise, the
sellers of a fall). Per-bucket owner tallies are space-saving summaries of ``max_owners``
entries, so state stays bounded and an update is O(1); owner shares are only computed while a
move is abnormal. Evidence: the move, volatility, threshold, window, the owners, their accounts
and their share.
"""

from __future__ import annotations

import math
from typing import Any

from models.categories import Category, DetectorKind, EntityType, Feed, Severity
from models.detector import Context, Detector
from models.events import Trade
from models.findings import Finding
from models.params import PriceParams
from models.stats.baseline import MAD_TO_SD

#: Volatility floor (log units) so a product whose price never moved can still be judged.
MIN_VOLATILITY = 0.002
#: Accounts remembered per owner and bucket for the evidence.
ACCOUNTS_PER_OWNER = 3


def _bucket(t: float, p: PriceParams) -> int:
    return math.floor(t / (p.bucket_hours * 3600.0))


def _window(p: PriceParams) -> int:
    return max(1, round(p.window_hours / p.bucket_hours))


def _new_state(w: int) -> dict[str, Any]:
    return {
        "first": None,
        "cur": None,
        "last": None,
        "last_t": None,
        "closes": [None] * (w + 1),
        "buy": [{} for _ in range(w)],
        "sell": [{} for _ in range(w)],
        "trades": [0] * w,
        "n": 0,
        "dev": 0.0,
        "ndev": 0,
        "alarm": False,
        "last_emit": None,
        "recent": [],
    }


def _tally(book: dict[str, list[Any]], owner: str, account: str, qty: float, cap: int) -> None:
    """Space-saving heavy-hitter summary: an owner that arrives when full replaces the smallest."""
    entry = book.get(owner)
    if entry is None:
        if len(book) >= cap:
            smallest = min(book, key=lambda k: book[k][0])
            base = book.pop(smallest)[0]
            entry = book[owner] = [base, []]
        else:
            entry = book[owner] = [0.0, []]
    entry[0] += qty
    if account not in entry[1] and len(entry[1]) < ACCOUNTS_PER_OWNER:
        entry[1].append(account)


class PriceManipulation(Detector):
    """price_manipulation on a trading-venue product (entity product, institution the venue).

    Parameters in ``params.stats.price_manipulation``: window 24 h of 1 h buckets, z ≥ 5 and
    |log move| ≥ 0.10, ≥ 5 trades, ≤ 3 owners with ≥ 60 % of the driving side, warm-up 24 h
    plus 48 h of learning. Example: a price flat at 10 then pushed to 13 within hours by two
    owners buying from each other → fires.
    """

    feed = Feed.TRADES
    categories = (Category.PRICE_MANIPULATION,)
    kind = DetectorKind.STATISTICAL
    name = "price_manipulation"
    namespace = "price_manipulation"

    def state_key(self, event: Trade) -> str:
        return event.product_id

    def detect(self, event: Trade, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        p = self.params.stats.price_manipulation
        w = _window(p)
        st = state if state is not None else _new_state(w)
        t = event.event_time.timestamp()
        if st["first"] is None or t < st["first"]:
            st["first"] = t
        b = _bucket(t, p)
        self._advance(st, b, p)
        if st["last_t"] is None or t >= st["last_t"]:
            st["last"], st["last_t"] = event.price, t
            st["closes"][st["cur"] % (w + 1)] = event.price
        if not st["cur"] - w < b <= st["cur"]:
            return st, []  # too late for the window: the price above was the only use
        slot = b % w
        _tally(
            st["buy"][slot], event.buyer_owner_id, event.buyer_account, event.quantity, p.max_owners
        )
        _tally(
            st["sell"][slot],
            event.seller_owner_id,
            event.seller_account,
            event.quantity,
            p.max_owners,
        )
        st["trades"][slot] += 1
        st["recent"].append(event.event_id)
        del st["recent"][:-10]
        if t < st["first"] + p.warmup_hours * 3600.0:
            return st, []
        return st, self._judge(event, st, b, p)

    def _advance(self, st: dict[str, Any], b: int, p: PriceParams) -> None:
        """Roll buckets forward to ``b``: carry closes, learn the volatility, clear old tallies."""
        w = _window(p)
        if st["cur"] is None:
            st["cur"] = b
            return
        steps = b - st["cur"]
        if steps <= 0:
            return
        for i in range(min(steps, w + 1)):
            closing = st["cur"] + i
            close = st["closes"][closing % (w + 1)]
            self._learn(st, close, st["closes"][(closing + 1) % (w + 1)], closing, p)
            nxt = closing + 1
            st["closes"][nxt % (w + 1)] = close
            st["buy"][nxt % w], st["sell"][nxt % w], st["trades"][nxt % w] = {}, {}, 0
        st["cur"] = b

    def _learn(
        self,
        st: dict[str, Any],
        close: float | None,
        ref: float | None,
        closing: int,
        p: PriceParams,
    ) -> None:
        """One closed bucket: fold |log move over the window| into the volatility."""
        start = st["first"] + p.warmup_hours * 3600.0
        if st["alarm"] or close is None or ref is None or closing * p.bucket_hours * 3600 < start:
            return
        move = abs(math.log(close / ref))
        if st["ndev"] >= _window(p):
            move = min(move, 3.0 * MAD_TO_SD * max(st["dev"], MIN_VOLATILITY))
        alpha = max(1.0 - math.pow(0.5, p.bucket_hours / p.half_life_hours), 1.0 / (st["ndev"] + 1))
        st["dev"] += alpha * (move - st["dev"])
        st["ndev"] += 1
        st["n"] += 1

    def _judge(self, event: Trade, st: dict[str, Any], b: int, p: PriceParams) -> list[Finding]:
        w = _window(p)
        ref = st["closes"][(st["cur"] + 1) % (w + 1)]  # close of bucket cur - w
        ready = st["n"] >= max(round(p.min_baseline_hours / p.bucket_hours), 1)
        if ref is None or st["last"] is None or not ready:
            return []
        move = math.log(st["last"] / ref)
        vol = max(MAD_TO_SD * st["dev"], MIN_VOLATILITY)
        z = abs(move) / vol
        threshold = max(p.z_threshold * vol, p.min_move)
        trades = sum(st["trades"])
        owners: list[tuple[str, float, list[str]]] = []
        share = 0.0
        abnormal = abs(move) >= threshold and trades >= p.min_trades
        if abnormal:
            owners, share = self._drivers(st, "buy" if move > 0 else "sell", p)
        firing = abnormal and share >= p.min_share
        transition = self._step(st, b, firing, z, p)
        if transition is None:
            return []
        cleared = transition == "clear"
        evidence = {
            "method": "log move over the window vs EWMA-MAD volatility; owner share of the side",
            "observed": round(move, 6),
            "baseline": round(vol, 6),
            "threshold": round(threshold, 6),
            "scale": round(vol, 6),
            "z": round(z, 3),
            "window_hours": p.window_hours,
            "bucket_hours": p.bucket_hours,
            "reference_price": ref,
            "last_price": st["last"],
            "trades_in_window": trades,
            "side": "buy" if move > 0 else "sell",
            "owners": [
                {"owner_id": o, "quantity": round(q, 4), "accounts": a} for o, q, a in owners
            ],
            "owner_share": round(share, 4),
            "min_share": p.min_share,
            "max_accounts": p.max_accounts,
            "transition": transition,
        }
        return [
            Finding(
                category=Category.PRICE_MANIPULATION,
                severity=Severity.INFO if cleared else Severity.HIGH,
                score=0.0 if cleared else round(min(1.0, z / (z + p.z_threshold)) * share, 4),
                feed=Feed.TRADES,
                entity_type=EntityType.PRODUCT,
                entity_id=event.product_id,
                institution_id=event.venue_id,
                event_time=event.event_time,
                detector=self.ref,
                evidence=evidence,
                event_ids=tuple(dict.fromkeys([*st["recent"], event.event_id])),
                cleared=cleared,
            )
        ]

    @staticmethod
    def _drivers(
        st: dict[str, Any], side: str, p: PriceParams
    ) -> tuple[list[tuple[str, float, list[str]]], float]:
        """The top owners of one side over the window and their share of its quantity."""
        merged: dict[str, list[Any]] = {}
        for book in st[side]:
            for owner, (qty, accounts) in book.items():
                entry = merged.setdefault(owner, [0.0, []])
                entry[0] += qty
                entry[1].extend(a for a in accounts if a not in entry[1])
        total = sum(e[0] for e in merged.values())
        if total <= 0:
            return [], 0.0
        top = sorted(merged.items(), key=lambda kv: kv[1][0], reverse=True)[: p.max_accounts]
        share = sum(e[0] for _, e in top) / total
        return [(o, e[0], e[1][:ACCOUNTS_PER_OWNER]) for o, e in top], min(1.0, share)

    @staticmethod
    def _step(st: dict[str, Any], b: int, firing: bool, z: float, p: PriceParams) -> str | None:
        if not st["alarm"]:
            if firing:
                st["alarm"], st["last_emit"] = True, b
                return "fire"
            return None
        if firing:
            if b - st["last_emit"] >= max(1, round(p.repeat_hours / p.bucket_hours)):
                st["last_emit"] = b
                return "repeat"
            return None
        if z < p.clear_z:
            st["alarm"] = False
            return "clear"
        return None
