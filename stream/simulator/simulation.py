"""``Simulation``: the whole synthetic history, records and labels, from one config.

A history starts with the institution records, then re-reports the book that already exists
(loans ``originated``, some already overdue; guarantees ``issued``) in its first hours, then
runs the background and the injected scenarios until it has the events or the time asked for.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from functools import partial

from models.history import HistoryRecord, Label
from stream.simulator import guaranteeing, lending, trading
from stream.simulator.book import GuarantorBook, LenderBook, LoanState
from stream.simulator.clock import DAY, HOUR, Clock
from stream.simulator.config import SimulatorConfig
from stream.simulator.runtime import LabelDraft, Sim
from stream.simulator.world import World, build_world

logger = logging.getLogger(__name__)

#: The book is re-reported between these seconds; live activity starts at LIVE.
BOOK_START, BOOK_END, LIVE = 10 * 60, 4 * HOUR, 6 * HOUR
#: Records of an average scenario (measured).
RECORDS_PER_SCENARIO = 30


def expected_volume(world: World) -> tuple[float, float, float]:
    """Re-reported book records, live records a day, and their daily growth after a month.

    From the world's rates, less what the 24-hour caps hold back (measured): originations,
    the book's monthly repayments and delinquencies; guarantees issued and released; trades
    on five days out of seven. After a month the run's own loans start repaying too.
    """
    lam = sum(p.orig_per_day for p in world.lenders)
    book_loans = sum(max(10, int(p.orig_per_day * 12)) for p in world.lenders)
    issue = sum(p.issue_per_day for p in world.guarantors)
    edges = max(4.0, len(world.network) / 60)
    book = (
        len(world.institutions)
        + book_loans
        + sum(int(p.issue_per_day * 25) for p in world.guarantors)
        + len(world.network) // 3
    )
    loans = 0.86 * lam + book_loans / 30 + 1.3 * sum(p.overdue_per_day for p in world.lenders)
    guarantees = 1.1 * issue + edges
    trades = 0.9 * sum(p.trades_per_day for p in world.products) * 5 / 7
    return float(book), loans + guarantees + trades, 0.86 * lam / 30


class Simulation:
    """A deterministic synthetic history of the Fujian local financial sector.

    ``records()`` yields ``HistoryRecord``s in event-time order; ``labels`` lists the injected
    scenarios and is complete once ``records()`` is exhausted. The same config gives the same
    records byte for byte.

    Example
    -------
    >>> sim = Simulation(SimulatorConfig(seed=7, events=5_000))
    >>> first = next(sim.records())
    >>> first.topic
    'institutions'
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._labels: list[Label] = []

    @property
    def labels(self) -> list[Label]:
        return list(self._labels)

    @property
    def duration(self) -> int:
        """Simulated seconds the run covers (sized from ``events`` when given)."""
        cfg = self.config
        if cfg.duration is not None:
            return int(cfg.duration)
        if cfg.events is None:
            return 30 * DAY
        world = build_world(random.Random(f"{cfg.seed}:world"), cfg.seed, cfg.institutions)
        book, per_day, growth = expected_volume(world)
        remaining = cfg.events - book - RECORDS_PER_SCENARIO * sum(cfg.scenario_mix().values())
        low, high = 0.0, 3650.0
        for _ in range(50):  # records(d) = per_day·d + growth·max(0, d − 30)²/2 = remaining
            days = (low + high) / 2
            if per_day * days + growth * max(0.0, days - 30) ** 2 / 2 < remaining:
                low = days
            else:
                high = days
        return LIVE + int(max(low, 1.0) * DAY * 1.04)

    def records(self) -> Iterator[HistoryRecord]:
        cfg = self.config
        self._labels = []
        sim = self._prepare()
        limit = cfg.events if cfg.events is not None else None
        end = self.duration
        emitted = 0
        last_t = 0
        while True:
            item = sim.pop()
            if item is None or item[0] > end:
                break
            sim.now, action = item
            action()
            for record in sim.out:
                yield record
                emitted += 1
                last_t = sim.now
                if limit is not None and emitted >= limit:
                    break
            sim.out.clear()
            if limit is not None and emitted >= limit:
                break
        self._labels = self._finish(sim.drafts, sim, last_t)

    # set-up -------------------------------------------------------------------------------------
    def _prepare(self) -> Sim:
        cfg = self.config
        world = build_world(random.Random(f"{cfg.seed}:world"), cfg.seed, cfg.institutions)
        sim = Sim(world, Clock(cfg.start, cfg.holidays), cfg.seed)
        sim.live = LIVE
        for i, inst in enumerate(world.institutions):
            sim.at(i, partial(sim.emit_institution, inst))
        self._rebook(sim, random.Random(f"{cfg.seed}:book"))
        rng = random.Random(f"{cfg.seed}:background")
        for lender_book in sim.lenders.values():
            lending.start_lending(sim, lender_book, rng, LIVE)
        for guarantor_book in sim.guarantors.values():
            guaranteeing.start_guarantor(sim, guarantor_book, rng, LIVE)
        network = guaranteeing.EnterpriseNetwork(sim, random.Random(f"{cfg.seed}:network"))
        sim.network = network
        network.start(LIVE)
        for product_book in sim.products.values():
            trading.start_trading(sim, product_book, rng, LIVE)
        from stream.simulator.scenarios import plan_scenarios

        plan_scenarios(sim, cfg, self.duration, random.Random(f"{cfg.seed}:scenarios"))
        return sim

    def _rebook(self, sim: Sim, rng: random.Random) -> None:
        """Schedule the re-report of the existing book in the history's first hours."""
        items: list[Callable[[], None]] = []
        for book in sim.lenders.values():
            count = max(10, int(book.profile.orig_per_day * 12))
            items += [partial(_rebook_loan, sim, book, rng)] * count
        for gbook in sim.guarantors.values():
            count = int(gbook.profile.issue_per_day * 25)
            items += [partial(_rebook_guarantee, sim, gbook, rng)] * count
        items += [partial(_rebook_edge, sim, rng)] * (len(sim.world.network) // 3)
        step = (BOOK_END - BOOK_START) / max(1, len(items))
        for i, item in enumerate(items):
            sim.at(BOOK_START + int(i * step), item)

    def _finish(self, drafts: list[LabelDraft], sim: Sim, last_t: int) -> list[Label]:
        labels = []
        for draft in drafts:
            label = _to_label(draft, sim, last_t)
            if label is not None:
                labels.append(label)
        return labels


def _rebook_loan(sim: Sim, book: LenderBook, rng: random.Random) -> None:
    profile = book.profile
    base = profile.inst.limit_base
    borrower = rng.choice(profile.pool)
    amount_c, rate, term, collateral = lending.draw_terms(rng, profile, borrower)
    if (
        book.exposure_c.get(borrower.borrower_id, 0) + amount_c
        > lending.BORROWER_SHARE * base * 100
    ):
        return
    age = rng.uniform(0, term - 1)
    loan = lending.new_loan(
        sim, book, borrower, amount_c, rate, term, collateral, start_t=sim.now - int(age * DAY)
    )
    paid = 0
    while paid + 1 < loan.n_payments and lending.due_time(loan, paid + 1) < sim.now:
        paid += 1
    loan.paid = paid
    sim.set_outstanding(loan, amount_c - paid * lending.installment_c(loan))
    sim.emit_loan(loan, "originated")
    # The share of the book already overdue matches the live overdue rate's steady state.
    overdue_share = profile.overdue_per_day * 13 / max(10, profile.orig_per_day * 12)
    if rng.random() < overdue_share * min(3.0, 2.7 ** (loan.risk + 1.0)):
        sim.at(sim.now + 1, lambda: _rebook_overdue(sim, loan, rng))
        return
    lending.schedule_payment(sim, loan, rng)


def _rebook_overdue(sim: Sim, loan: LoanState, rng: random.Random) -> None:
    lending.mark_overdue(sim, loan, rng, dpd=rng.randint(1, 25), fate=False)
    if rng.random() < lending.default_probability(loan.risk):
        sim.at(LIVE + rng.randint(HOUR, 20 * DAY), lambda: lending.default_later(sim, loan, rng))
    else:
        sim.at(LIVE + rng.randint(HOUR, 12 * DAY), lambda: lending.cure(sim, loan, rng))


def _rebook_guarantee(sim: Sim, book: GuarantorBook, rng: random.Random) -> None:
    term = rng.choice((180, 270, 365, 540, 720))
    age = rng.uniform(0, term - 1)
    debtor = rng.choice(book.profile.debtors)
    amount_c = guaranteeing.draw_amount_c(rng, book)
    limit = guaranteeing.DEBTOR_SHARE * book.profile.inst.net_assets * 100
    if book.exposure_c.get(debtor.borrower_id, 0) + amount_c > limit:
        return
    guaranteeing.issue_for_client(
        sim, book, rng, debtor=debtor, amount_c=amount_c, term_days=max(1, int(term - age))
    )


def _rebook_edge(sim: Sim, rng: random.Random) -> None:
    assert sim.network is not None
    sim.network.edge(start_t_days=rng.uniform(0, 170))


def _to_label(draft: LabelDraft, sim: Sim, last_t: int) -> Label | None:
    """The label of a scenario that started before the run stopped, or None."""
    start, end = draft.span()
    if start is None or end is None or not draft.entity_id or start > last_t:
        return None
    if draft.persistent:
        end = last_t  # a limit stays broken: alerts about it stay true to the end
    event_ids = list(draft.event_ids)
    for part in draft.parts:
        event_ids += part.event_ids[:10]
    return Label(
        scenario_id=draft.scenario_id,
        category=draft.category,
        entity_type=draft.entity_type,
        entity_id=draft.entity_id,
        institution_id=draft.institution_id,
        start=sim.clock.moment(start),
        end=sim.clock.moment(min(max(end, start), last_t)),
        event_ids=tuple(dict.fromkeys(event_ids)),
    )
