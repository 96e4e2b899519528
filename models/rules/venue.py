"""Trading-venue rules: prohibited_trading_mode, t_plus_5_violation, holder_limit.

Sources: 国发〔2011〕38号 and 国办发〔2012〕37号 (domain.md, Regulatory thresholds). Venues other
than exchanges must not trade standardised contracts by auction, continuous bidding, electronic
matching, anonymous or market-maker trading; buying and then selling (or selling then buying)
the same product fewer than 5 trading days apart is prohibited continuous trading; a product
must not have more than 200 holders. Trades are partitioned by product, so each detector keeps
one bounded state per product.
"""

from __future__ import annotations

import bisect
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from models.categories import Category, DetectorKind, EntityType, Feed, Severity
from models.detector import Context, Detector
from models.events import Trade
from models.findings import Finding
from models.rules._breach import finite_or_none, ratio_to_limit, score_for, severity_for

__all__ = ["HolderLimit", "ProhibitedTradingMode", "TPlus5Violation", "trading_day_index"]

#: Trading days are counted in the venues' local date (Fujian, UTC+08:00).
LOCAL_TIME = timezone(timedelta(hours=8))
_LOCAL_OFFSET_SECONDS = 8 * 3600
_UNIX_EPOCH = date(1970, 1, 1)
_EPOCH = date(1970, 1, 5)  # a Monday
#: Trade ids remembered per product so a redelivered trade does not move positions twice.
MAX_SEEN_TRADES = 256
#: Every this many trades of a product, parties idle for 2 × t_plus_days are forgotten.
PRUNE_EVERY = 256
_BUY, _SELL = 0, 1


@lru_cache(maxsize=8)
def _weekday_holidays(holidays: tuple[date, ...]) -> list[date]:
    return sorted({h for h in holidays if h.weekday() < 5})


def trading_day_index(moment: datetime, holidays: tuple[date, ...] = ()) -> int:
    """Trading days (Mon–Fri, not a holiday) before the local date of ``moment``.

    The difference of two indexes is how many trading days apart two trades are; a trade on a
    weekend or holiday counts as on the next trading day. Example: Monday to the next Monday
    is 5, Monday to Friday is 4.
    """
    local_day = int((moment.timestamp() + _LOCAL_OFFSET_SECONDS) // 86_400)
    return _day_index(local_day, holidays)


@lru_cache(maxsize=4096)
def _day_index(local_day: int, holidays: tuple[date, ...]) -> int:
    day = _UNIX_EPOCH + timedelta(days=local_day)
    weeks, rest = divmod((day - _EPOCH).days, 7)
    return weeks * 5 + min(rest, 5) - bisect.bisect_left(_weekday_holidays(holidays), day)


class ProhibitedTradingMode(Detector):
    """Category ``prohibited_trading_mode``: a trade whose ``trading_mode`` is not lawful.

    Every such trade is reported under its product; the first lawful trade after it reports
    ``cleared``.

    Parameters (``params.venue``)
    ----------
    lawful_modes : tuple of str, default ("negotiated",)

    Example: a trade with ``trading_mode="continuous"`` is reported (high).
    """

    feed = Feed.TRADES
    categories = (Category.PROHIBITED_TRADING_MODE,)
    kind = DetectorKind.RULE
    name = "prohibited_trading_mode"
    namespace = "prohibited_trading_mode"

    def state_key(self, event: Trade) -> str:
        return event.product_id

    def detect(
        self, event: Trade, state: dict[str, Any] | None, ctx: Context
    ) -> tuple[dict[str, Any] | None, list[Finding]]:
        lawful_modes = self.params.venue.lawful_modes
        lawful = event.trading_mode in lawful_modes
        if lawful and not state:
            return state, []
        finding = Finding(
            category=Category.PROHIBITED_TRADING_MODE,
            severity=Severity.INFO if lawful else Severity.HIGH,
            score=0.0 if lawful else 0.9,
            feed=Feed.TRADES,
            entity_type=EntityType.PRODUCT,
            entity_id=event.product_id,
            institution_id=event.venue_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence={
                "rule": self.name,
                "version": self.params.version,
                "trading_mode": event.trading_mode,
                "lawful_modes": list(lawful_modes),
                "trade_id": event.trade_id,
                "value": round(event.price * event.quantity, 2),
            },
            event_ids=(event.event_id,),
            cleared=lawful,
        )
        return (None if lawful else {"flagged": 1}), [finding]


class TPlus5Violation(Detector):
    """Category ``t_plus_5_violation``: opposite trades of one product < ``t_plus_days`` apart.

    Checked per beneficial owner and per account: a buy is compared with the party's recent
    sells and a sell with its recent buys; exactly ``t_plus_days`` apart is lawful. An owner on
    both sides of one trade (a wash trade) breaks it at once. The act is reported under the
    owner (on the account basis, the owner behind the account); it never clears.

    State per product: ``{"owners": {id: party}, "accounts": {id: party}, "n": trades}`` where
    a party is ``[newest day, buys, sells]`` and buys and sells are ``[trading day index, event
    id]`` pairs kept about 2 × ``t_plus_days`` trading days (so a late trade still compares);
    every ``PRUNE_EVERY`` trades, parties idle that long are dropped.

    Parameters (``params.venue``)
    ----------
    t_plus_days : int, default 5
    holidays : tuple of date, default ()
        Weekdays that are not trading days.

    Example: buying on a Friday and selling on the next Thursday (4 trading days) is reported;
    selling on the next Friday is lawful, and a holiday in between adds a day.
    """

    feed = Feed.TRADES
    categories = (Category.T_PLUS_5_VIOLATION,)
    kind = DetectorKind.RULE
    name = "t_plus_5_violation"
    namespace = "t_plus_5_violation"

    def state_key(self, event: Trade) -> str:
        return event.product_id

    def detect(
        self, event: Trade, state: dict[str, Any] | None, ctx: Context
    ) -> tuple[dict[str, Any], list[Finding]]:
        p = self.params.venue
        state = state if state is not None else {"owners": {}, "accounts": {}, "n": 0}
        day = trading_day_index(event.event_time, p.holidays)
        keep = 2 * p.t_plus_days
        owners: dict[str, list[Any]] = state["owners"]
        accounts: dict[str, list[Any]] = state["accounts"]
        findings: list[Finding] = []
        t_plus, event_id = p.t_plus_days, event.event_id
        for side, owner, account in (
            (_BUY, event.buyer_owner_id, event.buyer_account),
            (_SELL, event.seller_owner_id, event.seller_account),
        ):
            hit = _record(owners, owner, side, day, event_id, t_plus, keep)
            basis = "owner"
            account_hit = _record(accounts, account, side, day, event_id, t_plus, keep)
            if hit is None and account_hit is not None:
                hit, basis = account_hit, "account"
            if hit is not None and not (findings and findings[0].entity_id == owner):
                findings.append(self._finding(event, side, owner, account, basis, hit, day))
        state["n"] += 1
        if state["n"] % PRUNE_EVERY == 0:
            state["owners"] = _prune(owners, day - keep)
            state["accounts"] = _prune(accounts, day - keep)
        return state, findings

    def _finding(
        self,
        event: Trade,
        side: int,
        owner: str,
        account: str,
        basis: str,
        hit: list[Any],
        day: int,
    ) -> Finding:
        t_plus = self.params.venue.t_plus_days
        apart = abs(day - hit[0])
        shortfall = (t_plus - apart) / t_plus
        return Finding(
            category=Category.T_PLUS_5_VIOLATION,
            severity=Severity.HIGH if apart == 0 else Severity.MEDIUM,
            score=round(0.5 + 0.5 * shortfall, 6),
            feed=Feed.TRADES,
            entity_type=EntityType.OWNER,
            entity_id=owner,
            institution_id=event.venue_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence={
                "rule": self.name,
                "version": self.params.version,
                "trading_days_apart": apart,
                "limit": t_plus,
                "basis": basis,
                "owner_id": owner,
                "account": account,
                "side": "buy" if side == _BUY else "sell",
                "product_id": event.product_id,
                "trade_id": event.trade_id,
                "local_date": event.event_time.astimezone(LOCAL_TIME).date().isoformat(),
            },
            event_ids=tuple(dict.fromkeys((hit[1], event.event_id))),
        )


def _record(
    parties: dict[str, list[Any]],
    party: str,
    side: int,
    day: int,
    event_id: str,
    t_plus: int,
    keep: int,
) -> list[Any] | None:
    """Add the party's trade on ``side``; return the nearest opposite trade too close to it.

    A party is ``[newest day, buys, sells]``; a side's list is cut back to ``keep`` days
    behind the newest when it grows past ``keep`` entries, so it stays short.
    """
    entry = parties.get(party)
    if entry is None:
        entry = parties[party] = [day, [], []]
    elif day > entry[0]:
        entry[0] = day
    hit = None
    nearest = t_plus
    for other in entry[2 - side]:
        gap = abs(day - other[0])
        if gap < nearest:
            nearest, hit = gap, other
    own: list[list[Any]] = entry[1 + side]
    for mine in own:
        if mine[0] == day:
            mine[1] = event_id
            break
    else:
        own.append([day, event_id])
        if len(own) > keep:
            horizon = entry[0] - keep
            entry[1 + side] = [d for d in own if d[0] >= horizon]
    return hit


def _prune(parties: dict[str, list[Any]], horizon: int) -> dict[str, list[Any]]:
    """The parties whose newest trade is on or after ``horizon``."""
    return {party: entry for party, entry in parties.items() if entry[0] >= horizon}


class HolderLimit(Detector):
    """Category ``holder_limit``: more than ``holder_limit`` owners with a positive position.

    Positions are built from the venue's trades (buyer +quantity, seller -quantity); the
    issuer's original position never appears in trades, so only positive positions count.
    The holder count is kept as a running sum. Every trade of a product over the limit is a
    finding (the breach persists, so its alert stays open), and the trade that brings the count
    back within it a ``cleared`` one. A redelivered trade id is ignored.

    Parameters (``params.venue``)
    ----------
    holder_limit : int, default 200

    Example: the trade that gives a product its 201st holder is reported (medium); 200 holders
    are lawful.
    """

    feed = Feed.TRADES
    categories = (Category.HOLDER_LIMIT,)
    kind = DetectorKind.RULE
    name = "holder_limit"
    namespace = "holder_limit"

    def state_key(self, event: Trade) -> str:
        return event.product_id

    def detect(
        self, event: Trade, state: dict[str, Any] | None, ctx: Context
    ) -> tuple[dict[str, Any], list[Finding]]:
        state = state if state is not None else {"pos": {}, "holders": 0, "seen": {}, "flagged": 0}
        seen: dict[str, int] = state["seen"]
        if event.trade_id in seen:
            return state, []
        seen[event.trade_id] = 1
        if len(seen) > MAX_SEEN_TRADES:
            del seen[next(iter(seen))]
        if event.buyer_owner_id != event.seller_owner_id:
            _move(state, event.buyer_owner_id, event.quantity)
            _move(state, event.seller_owner_id, -event.quantity)
        holders: int = state["holders"]
        limit = self.params.venue.holder_limit
        breached = holders > limit
        if not breached and not state["flagged"]:
            return state, []
        state["flagged"] = int(breached)
        ratio = ratio_to_limit(holders, limit)
        finding = Finding(
            category=Category.HOLDER_LIMIT,
            severity=severity_for(ratio) if breached else Severity.INFO,
            score=score_for(ratio) if breached else 0.0,
            feed=Feed.TRADES,
            entity_type=EntityType.PRODUCT,
            entity_id=event.product_id,
            institution_id=event.venue_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence={
                "rule": self.name,
                "version": self.params.version,
                "holders": holders,
                "limit": limit,
                "ratio_to_limit": finite_or_none(ratio),
                "trade_id": event.trade_id,
                "buyer_owner_id": event.buyer_owner_id,
                "seller_owner_id": event.seller_owner_id,
            },
            event_ids=(event.event_id,),
            cleared=not breached,
        )
        return state, [finding]


def _move(state: dict[str, Any], owner: str, quantity: float) -> None:
    """Change one owner's position and the holder count when its sign crosses zero."""
    positions: dict[str, float] = state["pos"]
    old = positions.get(owner, 0.0)
    new = round(old + quantity, 6)
    if new == 0:
        positions.pop(owner, None)
    else:
        positions[owner] = new
    state["holders"] += (new > 0) - (old > 0)
