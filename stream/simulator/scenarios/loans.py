"""Loan scenarios: usurious rates, concentration, related parties, delinquency, evergreening,
borrowing from many lenders, lending surges, anomalous loans and loans that go bad.

Each injector is called at planning time and schedules its events; it fills the label draft
with what an alert would name (docs/architecture.md) as the events are emitted.
"""

from __future__ import annotations

import random
from functools import partial

from stream.simulator import lending
from stream.simulator.book import LenderBook, LoanState
from stream.simulator.clock import DAY, HOUR
from stream.simulator.runtime import LabelDraft, Sim
from stream.simulator.world import Borrower, new_borrower


def _fresh_borrower(
    sim: Sim, rng: random.Random, book: LenderBook, *, enterprise: bool, risk: float = 0.0
) -> Borrower:
    region = book.profile.inst.region_code
    return new_borrower(rng, sim.world.ids, region, enterprise=enterprise, risk=risk)


def _originate(
    sim: Sim,
    book: LenderBook,
    rng: random.Random,
    draft: LabelDraft,
    borrower: Borrower,
    *,
    amount_c: int | None = None,
    rate: float | None = None,
    term: int | None = None,
    collateral: str | None = None,
    related: bool = False,
    managed: bool = True,
    breach: bool = False,
) -> LoanState:
    amount, usual_rate, usual_term, usual_collateral = lending.draw_terms(
        rng, book.profile, borrower
    )
    loan = lending.new_loan(
        sim,
        book,
        borrower,
        amount_c if amount_c is not None else amount,
        rate if rate is not None else usual_rate,
        term if term is not None else usual_term,
        collateral if collateral is not None else usual_collateral,
        related=related,
        managed=managed,
    )
    draft.add(sim.emit_loan(loan, "originated"), sim.now, breach=breach)
    if not managed:
        lending.schedule_payment(sim, loan, rng)
    return loan


def _pool_borrower(book: LenderBook, rng: random.Random, amount_c: int) -> Borrower | None:
    limit = lending.BORROWER_SHARE * book.profile.inst.limit_base * 100
    for _ in range(20):
        borrower = rng.choice(book.profile.pool)
        if book.exposure_c.get(borrower.borrower_id, 0) + amount_c <= limit:
            return borrower
    return None


def usurious_rate(
    sim: Sim, book: LenderBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """One or two loans priced above the 0.12 cap (0.13–0.30), otherwise ordinary."""
    draft.institution_id = book.profile.inst.institution_id

    def one() -> None:
        borrower = rng.choice(book.profile.pool)
        loan = _originate(
            sim, book, rng, draft, borrower, rate=round(rng.uniform(0.13, 0.30), 4), managed=False
        )
        draft.entity_id = draft.entity_id or loan.loan_id

    for i in range(rng.randint(1, 2)):
        sim.at(t0 + i * rng.randint(8 * HOUR, 20 * HOUR), one)


def _stepwise(sim: Sim, t0: int, n: int, action: object) -> None:
    for i in range(n):
        sim.at(t0 + i * DAY + (HOUR * 3 if i else 0), action)  # type: ignore[arg-type]


def borrower_concentration(
    sim: Sim, book: LenderBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """Seven loans, one a day, to one new borrower: the seventh takes the exposure above 10 %
    of net assets (six stay at or below it)."""
    inst = book.profile.inst
    borrower = _fresh_borrower(sim, rng, book, enterprise=True)
    draft.institution_id, draft.entity_id = inst.institution_id, borrower.borrower_id
    draft.persistent = True
    n = 7
    share = rng.uniform(0.1 / n * 1.03, 0.1 / (n - 1) * 0.97)
    amount_c = int(share * inst.limit_base) * 100
    made = [0]

    def one() -> None:
        made[0] += 1
        _originate(sim, book, rng, draft, borrower, amount_c=amount_c, breach=made[0] == n)

    _stepwise(sim, t0, n, one)


def related_party_lending(
    sim: Sim, book: LenderBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """Eight loans, one a day, to new related parties: the eighth takes the lender's
    related-party total above 15 % of net assets."""
    inst = book.profile.inst
    draft.institution_id = draft.entity_id = inst.institution_id
    draft.persistent = True
    n = 8
    state = {"share": 0.0, "made": 0}

    def one() -> None:
        state["made"] += 1
        limit = 0.15 * inst.net_assets * 100
        if not state["share"]:
            room = limit - book.related_c
            state["share"] = rng.uniform(room / n * 1.03, room / (n - 1) * 0.97)
        amount = state["share"]
        if state["made"] == n:  # background repayments may have made room: still cross
            amount = max(amount, limit * 1.02 - book.related_c)
        borrower = _fresh_borrower(sim, rng, book, enterprise=True)
        borrower.related_to = inst.institution_id
        crossing = book.related_c <= limit < book.related_c + amount
        _originate(
            sim,
            book,
            rng,
            draft,
            borrower,
            amount_c=int(amount / 100) * 100,
            related=True,
            breach=crossing,
        )

    _stepwise(sim, t0, n, one)


def delinquency_spike(
    sim: Sim, book: LenderBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """14–22 current loans reported overdue within 20 hours; later they cure or default at the
    background's pace."""
    inst = book.profile.inst
    draft.institution_id = draft.entity_id = inst.institution_id

    def start() -> None:
        loans = lending.pick_loans(book, rng, rng.randint(14, 22), weighted=False)
        for loan in loans:
            loan.managed = True
        offsets = sorted(rng.randint(0, 20 * HOUR) for _ in loans)
        for loan, offset in zip(loans, offsets, strict=True):
            sim.at(t0 + offset, partial(overdue, loan))

    def overdue(loan: LoanState) -> None:
        if loan.status == "current":
            draft.add(lending.mark_overdue(sim, loan, rng, dpd=rng.randint(1, 10)), sim.now)

    sim.at(t0, start)


def evergreening(
    sim: Sim,
    book: LenderBook,
    t0: int,
    rng: random.Random,
    draft: LabelDraft,
    *,
    gaps: tuple[int, int] = (2 * DAY, 4 * DAY),
) -> None:
    """A loan extended, then rolled over twice (a chain of three), sometimes extended again.
    The label names the loan of the third event, as the alert does."""
    draft.institution_id = book.profile.inst.institution_id
    state: dict[str, LoanState] = {}

    def extend() -> None:
        picked = lending.pick_loans(book, rng, 1, weighted=False)
        if not picked:
            return
        loan = picked[0]
        loan.managed = True
        loan.term_days += rng.choice((90, 180))
        loan.chain = 1
        draft.add(sim.emit_loan(loan, "extended"), sim.now)
        state["loan"] = loan
        sim.at(sim.now + rng.randint(*gaps), roll)

    def roll() -> None:
        old = state["loan"]
        new, extended, repaid = lending.rollover(
            sim,
            old,
            rng,
            chain=old.chain + 1,
            term_days=rng.choice(book.profile.terms),
            managed=True,
        )
        draft.add(extended, sim.now, breach=new.chain == 3)
        draft.add(repaid, sim.now)
        state["loan"] = new
        if new.chain == 3:
            draft.entity_id = new.loan_id
            if rng.random() < 0.5:
                sim.at(sim.now + rng.randint(*gaps), extend_again)
        else:
            sim.at(sim.now + rng.randint(*gaps), roll)

    def extend_again() -> None:
        loan = state["loan"]
        loan.term_days += 90
        loan.chain += 1
        draft.add(sim.emit_loan(loan, "extended"), sim.now)

    sim.at(t0, extend)


def multi_lender_borrowing(
    sim: Sim, books: list[LenderBook], t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """A new borrower takes ordinary loans from 5–6 lenders within five days; the label names
    the fifth lender (the alert's trigger) and the borrower."""
    region = books[0].profile.inst.region_code
    borrower = new_borrower(rng, sim.world.ids, region, enterprise=rng.random() < 0.4)
    draft.entity_id = borrower.borrower_id
    offsets = sorted(rng.randint(0, 5 * DAY - HOUR) for _ in books)
    for i, (book, offset) in enumerate(zip(books, offsets, strict=True)):
        if i == 4:
            draft.institution_id = book.profile.inst.institution_id

        def one(book: LenderBook = book, fifth: bool = i == 4) -> None:
            _originate(sim, book, rng, draft, borrower, managed=False, breach=fifth)

        sim.at(t0 + offset, one)


def lending_surge(
    sim: Sim, book: LenderBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """About five days' originations plus six, within 20 hours, of ordinary loans."""
    inst = book.profile.inst
    draft.institution_id = draft.entity_id = inst.institution_id
    n = int(5 * book.profile.orig_per_day) + 6

    def one() -> None:
        borrower = rng.choice(book.profile.pool)
        amount, rate, term, collateral = lending.draw_terms(rng, book.profile, borrower)
        chosen = _pool_borrower(book, rng, amount)
        if chosen is not None:
            _originate(
                sim,
                book,
                rng,
                draft,
                chosen,
                amount_c=amount,
                rate=rate,
                term=term,
                collateral=collateral,
                managed=False,
            )

    for offset in sorted(rng.randint(0, 20 * HOUR) for _ in range(n)):
        sim.at(t0 + offset, one)


def loan_anomaly(
    sim: Sim, book: LenderBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """One or two lawful loans far from both the lender's and the borrower's profile: an
    existing client of the lender borrows three times its current loan at a 1.5 % rate, for a
    term the lender never offers, against collateral it never takes."""
    profile = book.profile
    draft.institution_id = profile.inst.institution_id
    usual = {c for c, _ in profile.collateral}
    collateral = next(c for c in ("equity", "other", "vehicle", "none") if c not in usual)
    term = 7 if max(profile.terms) > 365 else 3650

    def one() -> None:
        current = [
            loan
            for loan in lending.pick_loans(book, rng, 5, weighted=False)
            if loan.borrower.related_to is None
        ]
        if current:
            borrower, usual_c = current[0].borrower, current[0].principal_c
        else:
            borrower = _fresh_borrower(sim, rng, book, enterprise=profile.enterprise_share < 0.5)
            usual_c = int(profile.median_individual) * 100
        amount_c = 3 * usual_c * rng.uniform(0.9, 1.3)
        amount_c = min(amount_c, lending.LOAN_SHARE * profile.inst.limit_base * 100)
        loan = _originate(
            sim,
            book,
            rng,
            draft,
            borrower,
            amount_c=int(amount_c / 100) * 100,
            rate=0.015,
            term=term,
            collateral=collateral,
        )
        draft.entity_id = draft.entity_id or loan.loan_id

    for i in range(rng.randint(1, 2)):
        sim.at(t0 + i * rng.randint(10 * HOUR, 20 * HOUR), one)


def _delinquent_borrower(
    sim: Sim, book: LenderBook, rng: random.Random, taken: set[str]
) -> Borrower | None:
    """A borrower with a loan overdue or in default now, at this lender or another."""
    others = [b for b in sim.lenders.values() if b is not book]
    rng.shuffle(others)
    for candidate in [book, *others]:
        bad = [
            loan.borrower
            for loan in candidate.loans
            if loan.status in ("overdue", "default")
            and loan.borrower.related_to is None
            and loan.borrower.borrower_id not in taken
        ]
        if bad:
            return rng.choice(bad)
    return None


def default_risk(
    sim: Sim, book: LenderBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """Three loans on the riskiest terms (rate near the cap, no collateral, 30–90 days) to
    borrowers already overdue or in default elsewhere (or, failing that, new weak borrowers in
    risky industries); they go overdue within days and default two weeks later."""
    profile = book.profile
    draft.institution_id = profile.inst.institution_id
    taken: set[str] = set()

    def one() -> None:
        found = _delinquent_borrower(sim, book, rng, taken)
        borrower = found or _fresh_borrower(
            sim, rng, book, enterprise=rng.random() < 0.5, risk=rng.uniform(2.0, 3.0)
        )
        taken.add(borrower.borrower_id)
        if found is None and borrower.industry_code is not None:
            borrower.industry_code = rng.choice(("K", "L", "E"))
        median = (
            profile.median_enterprise
            if borrower.borrower_type == "enterprise"
            else (profile.median_individual)
        )
        amount = min(2.0 * median, lending.LOAN_SHARE * profile.inst.limit_base)
        loan = _originate(
            sim,
            book,
            rng,
            draft,
            borrower,
            amount_c=int(amount) * 100,
            rate=round(rng.uniform(0.116, 0.12), 4),
            term=rng.choice((30, 60, 90)),
            collateral="none",
        )
        draft.entity_id = draft.entity_id or loan.loan_id
        sim.at(sim.now + rng.randint(3 * DAY, 8 * DAY), lambda: overdue(loan))

    def overdue(loan: LoanState) -> None:
        if not lending.delinquency_room(book, sim.now):
            sim.at(sim.now + DAY // 2, lambda: overdue(loan))
            return
        book.recent_delinquent.append(sim.now)
        draft.add(lending.mark_overdue(sim, loan, rng, dpd=rng.randint(1, 5), fate=False), sim.now)
        sim.at(sim.now + rng.randint(8 * DAY, 14 * DAY), lambda: default(loan))

    def default(loan: LoanState) -> None:
        if not lending.delinquency_room(book, sim.now):
            sim.at(sim.now + DAY // 2, lambda: default(loan))
            return
        book.recent_delinquent.append(sim.now)
        draft.add(lending.declare_default(sim, loan, rng), sim.now)

    for i in range(3):
        sim.at(t0 + i * rng.randint(6 * HOUR, 16 * HOUR), one)
