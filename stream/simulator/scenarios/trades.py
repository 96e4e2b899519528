"""Trading-venue scenarios: wash trades, manipulation, volume, trading modes, T+5, holders.

Scenarios that add a handful of trades pause the product's background from the planned time
to a day after the session they use, so their own trades do not also look like a volume
anomaly.
"""

from __future__ import annotations

import random
from functools import partial

from stream.simulator import trading
from stream.simulator.book import ProductBook
from stream.simulator.clock import DAY, HOUR
from stream.simulator.runtime import LabelDraft, Sim
from stream.simulator.world import Account

UNLAWFUL_MODES = ("auction", "continuous", "electronic_matching", "anonymous", "market_maker")


def _new_account(sim: Sim, book: ProductBook, owner: str | None = None) -> Account:
    code = book.product.product_id.split("-")[0]
    return Account(sim.world.ids.account(code), owner or sim.world.ids.owner())


def _session_after(sim: Sim, t: int, gap: int = DAY) -> int:
    """Shortly after the opening of the first session at least ``gap`` after ``t``."""
    return trading.next_session(sim, t + gap, 1) + 1800


def _pause(sim: Sim, book: ProductBook, until: int) -> None:
    book.paused_until = max(book.paused_until, until)


def wash_trade(
    sim: Sim,
    book: ProductBook,
    t0: int,
    rng: random.Random,
    draft: LabelDraft,
    owner_drafts: list[LabelDraft],
) -> None:
    """Same owner on both sides (two accounts passing a lot back and forth), or a ring of three
    owners passing one lot around. Every owner involved bought and sold within the day, so each
    also gets a ``t_plus_5_violation`` label (``owner_drafts``)."""
    venue = book.product.venue.institution_id
    draft.institution_id, draft.entity_id = venue, book.product.product_id
    same_owner = len(owner_drafts) == 1
    owner_ids = [sim.world.ids.owner() for _ in owner_drafts]
    for od, owner in zip(owner_drafts, owner_ids, strict=True):
        od.institution_id, od.entity_id = venue, owner

    def start() -> None:
        session = _session_after(sim, sim.now)
        _pause(sim, book, session + DAY)
        if same_owner:
            a, b = (_new_account(sim, book, owner_ids[0]) for _ in range(2))
            legs = [(a, b), (b, a), (a, b)]
        else:
            accounts = [_new_account(sim, book, owner) for owner in owner_ids]
            ring = [(accounts[i], accounts[(i + 1) % 3]) for i in range(3)]
            legs = ring * rng.randint(1, 2)
        quantity = book.product.lot
        for i, (seller, buyer) in enumerate(legs):
            sim.at(session + i * rng.randint(600, 2400), partial(leg, seller, buyer, quantity))

    sides: dict[str, set[str]] = {owner: set() for owner in owner_ids}
    legs_done = [0]

    def leg(seller: Account, buyer: Account, quantity: float) -> None:
        event_id = sim.emit_trade(book, buyer, seller, book.price, quantity)
        legs_done[0] += 1
        # Same owner: the first leg is the wash; a ring: the third leg closes it.
        draft.add(event_id, sim.now, breach=same_owner or legs_done[0] == 3)
        sides[seller.owner_id].add("sell")
        sides[buyer.owner_id].add("buy")
        for od in owner_drafts:
            if od.entity_id in (buyer.owner_id, seller.owner_id):
                od.add(event_id, sim.now, breach=len(sides[od.entity_id]) == 2)

    sim.at(t0, start)


def t_plus_5_violation(
    sim: Sim, book: ProductBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """A new owner buys a lot and sells it 1–3 trading days later (fewer than five)."""
    venue = book.product.venue.institution_id
    account = _new_account(sim, book)
    draft.institution_id, draft.entity_id = venue, account.owner_id
    quantity = trading.draw_quantity(book, rng)

    def buy() -> None:
        seller = rng.choice(book.product.sellers)
        draft.add(
            sim.emit_trade(book, account, seller, trading.next_price(book, rng), quantity), sim.now
        )
        day = sim.clock.day(sim.now)
        for _ in range(rng.randint(1, 3)):
            day = sim.clock.next_trading_day(day)
        sim.at(sim.clock.day_start(day) + trading.OPENS + rng.randint(600, 4 * HOUR), sell)

    def sell() -> None:
        buyer = rng.choice(book.product.buyers)
        draft.add(
            sim.emit_trade(book, buyer, account, trading.next_price(book, rng), quantity),
            sim.now,
            breach=True,
        )

    sim.at(trading.next_session(sim, t0, 1) + rng.randint(600, 3 * HOUR), buy)


def prohibited_trading_mode(
    sim: Sim, book: ProductBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """A session of ordinary trades done by an unlawful mode (auction, continuous, ...)."""
    draft.institution_id, draft.entity_id = (
        book.product.venue.institution_id,
        (book.product.product_id),
    )
    mode = rng.choice(UNLAWFUL_MODES)

    def start() -> None:
        session = _session_after(sim, sim.now)
        _pause(sim, book, session + DAY)
        n = max(3, round(book.product.trades_per_day * 0.8))
        for offset in sorted(rng.randint(0, 4 * HOUR) for _ in range(n)):
            sim.at(session + offset, one)

    def one() -> None:
        buyer, seller = rng.choice(book.product.buyers), rng.choice(book.product.sellers)
        price, quantity = trading.next_price(book, rng), trading.draw_quantity(book, rng)
        draft.add(sim.emit_trade(book, buyer, seller, price, quantity, mode=mode), sim.now)

    sim.at(t0, start)


def price_manipulation(
    sim: Sim, book: ProductBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """Two or three new owners buy the product up 4–6 % a trade within one session (no one
    else trades it that day); the venue then quotes around the new level."""
    product = book.product
    draft.institution_id, draft.entity_id = product.venue.institution_id, product.product_id

    def start() -> None:
        session = _session_after(sim, sim.now)
        _pause(sim, book, session + DAY)
        ring = [_new_account(sim, book) for _ in range(rng.randint(2, 3))]
        n = max(6, round(product.trades_per_day * 0.8))
        offsets = sorted(rng.randint(0, 5 * HOUR) for _ in range(n))
        for i, offset in enumerate(offsets):
            buyer = ring[i % len(ring)]
            sim.at(session + offset, partial(push, buyer, i == n - 1))

    def push(buyer: Account, last: bool) -> None:
        book.price = round(book.price * rng.uniform(1.04, 1.06), 2)
        seller = rng.choice(product.sellers)
        quantity = trading.draw_quantity(book, rng)
        draft.add(sim.emit_trade(book, buyer, seller, book.price, quantity), sim.now)
        if last:
            product.anchor_price = book.price

    sim.at(t0, start)


def volume_anomaly(
    sim: Sim, book: ProductBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """About six sessions' worth of ordinary trades in one session, by the usual owners."""
    product = book.product
    draft.institution_id, draft.entity_id = product.venue.institution_id, product.product_id

    def start() -> None:
        session = _session_after(sim, sim.now, 0)
        n = int(5 * product.trades_per_day) + 10
        for offset in sorted(rng.randint(0, 5 * HOUR) for _ in range(n)):
            sim.at(session + offset, one)

    def one() -> None:
        buyer, seller = rng.choice(product.buyers), rng.choice(product.sellers)
        price, quantity = trading.next_price(book, rng), trading.draw_quantity(book, rng)
        draft.add(sim.emit_trade(book, buyer, seller, price, quantity), sim.now)

    sim.at(t0, start)


def holder_limit(
    sim: Sim, book: ProductBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """The busy product's buyers are all new owners, at its usual pace, until more than 200
    owners hold it (a few trades past the crossing)."""
    product = book.product
    draft.institution_id, draft.entity_id = product.venue.institution_id, product.product_id
    draft.persistent = True
    per_second = product.trades_per_day / (trading.CLOSES - trading.OPENS)
    state = {"after": 0}

    def one() -> None:
        if book.holders > 200:
            state["after"] += 1
        if state["after"] > 3:
            book.paused_until = sim.now
            return
        _pause(sim, book, 10**12)
        buyer = _new_account(sim, book)
        seller = rng.choice(product.sellers)
        price, quantity = trading.next_price(book, rng), trading.draw_quantity(book, rng)
        before = book.holders
        event_id = sim.emit_trade(book, buyer, seller, price, quantity)
        draft.add(event_id, sim.now, breach=before <= 200 < book.holders)
        sim.at(trading.next_session(sim, sim.now, rng.expovariate(per_second)), one)

    sim.at(trading.next_session(sim, t0, 1), one)
