"""Background trading on the venues: negotiated trades only, in session on trading days.

Each product has a fixed set of selling and buying owners (a seller never buys it and a buyer
never sells it, so no owner trades both ways within five trading days and no ring forms), fewer
than 200 holders, a stable trade rate capped over any 24 hours, and a mean-reverting price that
stays within ±4 % of its anchor.
"""

from __future__ import annotations

import math
import random

from stream.simulator.book import ProductBook
from stream.simulator.clock import HOUR
from stream.simulator.runtime import Sim
from stream.simulator.world import Account

OPENS, CLOSES = 9 * HOUR + 30 * 60, 15 * HOUR
MAX_PRICE_DEVIATION = 0.04


def next_price(book: ProductBook, rng: random.Random) -> float:
    """One step of the log price around the product's anchor (mean-reverting, clamped)."""
    anchor = book.product.anchor_price
    x = math.log(book.price / anchor)
    x = max(-MAX_PRICE_DEVIATION, min(MAX_PRICE_DEVIATION, 0.97 * x + rng.gauss(0, 0.004)))
    book.price = max(0.01, round(anchor * math.exp(x), 2))
    return book.price


def draw_quantity(book: ProductBook, rng: random.Random) -> float:
    lots = book.product.lot / 100 * min(rng.lognormvariate(0, 0.4), 2.5)
    return float(100 * max(1, round(lots)))


def trade_room(sim: Sim, book: ProductBook) -> bool:
    """Whether one more background trade keeps the last 24 hours under the volume cap."""
    count = book.recent.trim(sim.now)
    lam = book.product.trades_per_day
    limit = max(1.6 * lam, lam + 3.0)
    lots = book.recent.total / book.product.lot
    return count + 1 <= limit and lots + 2.5 <= limit


def background_trade(sim: Sim, book: ProductBook, rng: random.Random) -> None:
    product = book.product
    if not product.venue.active or sim.now < book.paused_until or not trade_room(sim, book):
        return
    buyer: Account = rng.choice(product.buyers)
    seller: Account = rng.choice(product.sellers)
    sim.emit_trade(book, buyer, seller, next_price(book, rng), draw_quantity(book, rng))


def next_session(sim: Sim, t: int, gap: float) -> int:
    return sim.clock.advance(t, gap, opens=OPENS, closes=CLOSES, trading_only=True)


def start_trading(sim: Sim, book: ProductBook, rng: random.Random, live: int) -> None:
    per_second = book.product.trades_per_day / (CLOSES - OPENS)

    def trade() -> None:
        background_trade(sim, book, rng)
        sim.at(next_session(sim, sim.now, rng.expovariate(per_second)), trade)

    sim.at(next_session(sim, live, rng.expovariate(per_second)), trade)
