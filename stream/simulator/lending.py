"""Background lending: originations, monthly repayments, overdue loans that cure or default.

Volumes are stationary per lender and capped over any 24 hours (originations below 2.2× the
lender's daily rate, delinquencies at three), so spike detectors with a warm-up stay quiet on
the background. Which loans go overdue, and which of those default, depends on the borrower
and the loan terms, so a supervised default model has something to learn.
"""

from __future__ import annotations

import math
import random

from stream.simulator.book import LenderBook, LoanState
from stream.simulator.clock import DAY, HOUR
from stream.simulator.runtime import Sim
from stream.simulator.sector import INDUSTRIES
from stream.simulator.world import Borrower, LenderProfile

#: Business hours for loans (local seconds of the day).
OPENS, CLOSES = 8 * HOUR, 20 * HOUR
#: Rates the background stays under: the cap is 0.12 and exactly 0.12 is lawful.
MAX_BACKGROUND_RATE = 0.118
#: Background limits as shares of the lender's limit base: well below every rule.
LOAN_SHARE, BORROWER_SHARE, RELATED_SHARE = 0.02, 0.03, 0.03
#: Background delinquencies (overdue + default) per lender in any 24 hours.
MAX_DELINQUENT_PER_DAY = 3

_COLLATERAL_RISK = {
    "none": 0.6,
    "real_estate": -0.5,
    "guarantee": -0.2,
    "vehicle": 0.1,
    "movable": 0.2,
    "equity": 0.3,
    "other": 0.2,
}
_REGION_RISK = {"350400": 0.2, "350700": 0.2, "350800": 0.1, "350128": 0.15}


def loan_risk(borrower: Borrower, rate: float, collateral: str, term_days: int) -> float:
    """Log-odds of going overdue: what the default model can learn from the loan's fields."""
    score = -3.0 + 0.5 * (borrower.borrower_type == "individual")
    if borrower.industry_code is not None:
        score += INDUSTRIES[borrower.industry_code][1]
    score += 30.0 * (rate - 0.09) + _COLLATERAL_RISK.get(collateral, 0.0)
    score += 0.4 * (term_days <= 90) + _REGION_RISK.get(borrower.region_code, 0.0)
    return score + 0.8 * borrower.hidden_risk


def default_probability(risk: float) -> float:
    """Chance that an overdue loan defaults rather than cures."""
    return min(0.85, max(0.15, 1.0 / (1.0 + math.exp(-(risk + 2.0)))))


def draw_terms(
    rng: random.Random, profile: LenderProfile, borrower: Borrower
) -> tuple[int, float, int, str]:
    """Principal (cents), rate, term and collateral from the lender's usual profile."""
    enterprise = borrower.borrower_type == "enterprise"
    median = profile.median_enterprise if enterprise else profile.median_individual
    amount = median * min(rng.lognormvariate(0, 0.5), 3.5)
    amount = min(amount, LOAN_SHARE * profile.inst.limit_base)
    amount_c = max(100_000, round(amount / 100) * 10_000)  # whole hundreds of yuan
    if profile.inst.institution_type == "private_lending" and rng.random() < 0.02:
        rate = 0.12  # exactly at the cap: lawful
    else:
        rate = min(MAX_BACKGROUND_RATE, max(0.03, rng.gauss(profile.rate_mean, profile.rate_sd)))
    names = [c for c, _ in profile.collateral]
    collateral = rng.choices(names, weights=[w for _, w in profile.collateral])[0]
    return amount_c, round(rate, 4), rng.choice(profile.terms), collateral


def new_loan(
    sim: Sim,
    book: LenderBook,
    borrower: Borrower,
    amount_c: int,
    rate: float,
    term_days: int,
    collateral: str,
    *,
    start_t: int | None = None,
    related: bool = False,
    managed: bool = False,
) -> LoanState:
    """A loan in the lender's book (its exposures updated); nothing is emitted yet."""
    start = sim.now if start_t is None else start_t
    loan = LoanState(
        loan_id=sim.new_id("LN", 8),
        lender=book.profile,
        borrower=borrower,
        principal_c=amount_c,
        outstanding_c=0,
        rate=rate,
        term_days=term_days,
        collateral=collateral,
        related=related,
        start_t=start,
        risk=loan_risk(borrower, rate, collateral, term_days),
        n_payments=max(1, term_days // 30),
        managed=managed,
    )
    sim.set_outstanding(loan, amount_c)
    book.loans.append(loan)
    book.mean_principal_c += (amount_c - book.mean_principal_c) * (
        0.02 if book.mean_principal_c else 1.0
    )
    return loan


def installment_c(loan: LoanState) -> int:
    return -(-loan.principal_c // loan.n_payments)


def due_time(loan: LoanState, k: int) -> int:
    """When installment ``k`` (1-based) falls due; the last one at maturity."""
    if k >= loan.n_payments:
        return loan.start_t + loan.term_days * DAY
    return loan.start_t + k * 30 * DAY


def schedule_payment(sim: Sim, loan: LoanState, rng: random.Random) -> None:
    k = loan.paid + 1
    when = max(due_time(loan, k), sim.now + HOUR, sim.live)
    sim.at(when + rng.randint(0, 6 * HOUR), lambda: pay_installment(sim, loan, k, rng))


def pay_installment(sim: Sim, loan: LoanState, k: int, rng: random.Random) -> None:
    if loan.status != "current" or loan.paid != k - 1 or loan.outstanding_c <= 0:
        return
    last = k >= loan.n_payments
    if last and not loan.managed and _maybe_extend(sim, loan, rng):
        return
    payment = loan.outstanding_c if last else min(installment_c(loan), loan.outstanding_c)
    sim.set_outstanding(loan, loan.outstanding_c - payment)
    loan.paid = k
    sim.emit_loan(loan, "repayment", payment_c=payment)
    if loan.outstanding_c <= 0:
        loan.status = "closed"
    else:
        schedule_payment(sim, loan, rng)


def _maybe_extend(sim: Sim, loan: LoanState, rng: random.Random) -> bool:
    """At maturity a few background loans are extended once or rolled over once, never more."""
    inst = loan.lender.inst
    if loan.chain > 0 or not inst.active:
        return False
    draw = rng.random()
    if draw < 0.03:
        loan.term_days += rng.choice((90, 180))
        loan.n_payments += 1
        loan.chain = 1
        sim.emit_loan(loan, "extended")
        schedule_payment(sim, loan, rng)
        return True
    if draw < 0.05:
        rollover(sim, loan, rng, chain=1, term_days=rng.choice(loan.lender.terms))
        return True
    return False


def rollover(
    sim: Sim,
    old: LoanState,
    rng: random.Random,
    *,
    chain: int,
    term_days: int,
    managed: bool = False,
) -> tuple[LoanState, str, str]:
    """A new loan repays the old one: ``extended`` with previous_loan_id, and the old loan's
    repayment to zero at the same second. Returns the new loan and both event ids."""
    book = sim.lenders[old.lender.inst.institution_id]
    new = new_loan(
        sim,
        book,
        old.borrower,
        old.outstanding_c,
        old.rate,
        term_days,
        old.collateral,
        related=old.related,
        managed=managed,
    )
    new.chain = chain
    new.previous_loan_id = old.loan_id
    extended = sim.emit_loan(new, "extended")
    payment = old.outstanding_c
    sim.set_outstanding(old, 0)
    old.status = "closed"
    old.paid = old.n_payments
    repaid = sim.emit_loan(old, "repayment", payment_c=payment)
    if not managed:
        schedule_payment(sim, new, rng)
    return new, extended, repaid


def start_lending(sim: Sim, book: LenderBook, rng: random.Random, live: int) -> None:
    """The lender's origination and delinquency processes, from ``live`` on."""
    per_second = book.profile.orig_per_day / (CLOSES - OPENS)

    def originate() -> None:
        _originate(sim, book, rng)
        sim.at(next_open(sim, rng.expovariate(per_second)), originate)

    overdue_rate = book.profile.overdue_per_day / (CLOSES - OPENS)

    def delinquent() -> None:
        _go_overdue(sim, book, rng)
        sim.at(next_open(sim, rng.expovariate(overdue_rate)), delinquent)

    sim.at(
        sim.clock.advance(live, rng.expovariate(per_second), opens=OPENS, closes=CLOSES), originate
    )
    sim.at(
        sim.clock.advance(live, rng.expovariate(overdue_rate), opens=OPENS, closes=CLOSES),
        delinquent,
    )


def next_open(sim: Sim, gap: float) -> int:
    return sim.clock.advance(sim.now, gap, opens=OPENS, closes=CLOSES)


def _originate(sim: Sim, book: LenderBook, rng: random.Random) -> None:
    profile = book.profile
    if not profile.inst.active:
        return
    recent = book.recent_orig
    count = recent.trim(sim.now)
    lam = profile.orig_per_day
    max_count = max(2, int(min(2.2 * lam, lam + 3.5)))
    max_amount = 2.2 * max(lam, 1.0) * max(book.mean_principal_c, 1.0)
    if count >= max_count:
        return
    base = profile.inst.limit_base
    related = bool(profile.related) and rng.random() < 0.01
    borrower = rng.choice(profile.related if related else profile.pool)
    amount_c, rate, term, collateral = draw_terms(rng, profile, borrower)
    if recent.total + amount_c > max_amount:
        return
    exposure = book.exposure_c.get(borrower.borrower_id, 0) + amount_c
    if exposure > BORROWER_SHARE * base * 100:
        return
    if related and book.related_c + amount_c > RELATED_SHARE * profile.inst.net_assets * 100:
        return
    loan = new_loan(sim, book, borrower, amount_c, rate, term, collateral, related=related)
    recent.add(sim.now, amount_c)
    sim.emit_loan(loan, "originated")
    schedule_payment(sim, loan, rng)


def pick_loans(
    book: LenderBook, rng: random.Random, n: int, *, weighted: bool = True
) -> list[LoanState]:
    """Up to ``n`` distinct current background loans, riskier ones more likely."""
    loans = book.loans
    chosen: list[LoanState] = []
    seen: set[str] = set()
    for _ in range(n * 12):
        if len(chosen) >= n or not loans:
            break
        i = rng.randrange(len(loans))
        loan = loans[i]
        if loan.status == "closed":
            loans[i] = loans[-1]
            loans.pop()
            continue
        if loan.status != "current" or loan.managed or loan.loan_id in seen:
            continue
        if weighted and rng.random() > min(1.0, math.exp(1.5 * (loan.risk + 1.0))):
            continue
        seen.add(loan.loan_id)
        chosen.append(loan)
    return chosen


def delinquency_room(book: LenderBook, now: int) -> bool:
    recent = book.recent_delinquent
    while recent and recent[0] <= now - DAY:
        recent.popleft()
    return len(recent) < MAX_DELINQUENT_PER_DAY


def _go_overdue(sim: Sim, book: LenderBook, rng: random.Random) -> None:
    if not delinquency_room(book, sim.now):
        return
    picked = pick_loans(book, rng, 1)
    if not picked:
        return
    book.recent_delinquent.append(sim.now)
    mark_overdue(sim, picked[0], rng, dpd=rng.randint(1, 5))


def mark_overdue(
    sim: Sim, loan: LoanState, rng: random.Random, *, dpd: int, fate: bool = True
) -> str:
    """Report the loan overdue and, with ``fate``, schedule its cure or default."""
    loan.status = "overdue"
    loan.due_t = sim.now - dpd * DAY
    event_id = sim.emit_loan(loan, "overdue", dpd=dpd)
    if fate:
        if rng.random() < default_probability(loan.risk):
            sim.at(sim.now + rng.randint(10 * DAY, 30 * DAY), lambda: default_later(sim, loan, rng))
        else:
            sim.at(sim.now + rng.randint(3 * DAY, 15 * DAY), lambda: cure(sim, loan, rng))
    return event_id


def days_past_due(sim: Sim, loan: LoanState) -> int:
    return max(1, (sim.now - loan.due_t) // DAY)


def default_later(sim: Sim, loan: LoanState, rng: random.Random) -> None:
    """Default the overdue loan now, or a little later if the lender's 24-hour cap is full."""
    if loan.status != "overdue":
        return
    book = sim.lenders[loan.lender.inst.institution_id]
    if not delinquency_room(book, sim.now):
        sim.at(sim.now + DAY // 2 + rng.randint(0, DAY), lambda: default_later(sim, loan, rng))
        return
    book.recent_delinquent.append(sim.now)
    declare_default(sim, loan, rng)


def declare_default(sim: Sim, loan: LoanState, rng: random.Random) -> str:
    loan.status = "default"
    event_id = sim.emit_loan(loan, "default", dpd=days_past_due(sim, loan))
    if rng.random() < 0.5:
        sim.at(sim.now + rng.randint(15 * DAY, 40 * DAY), lambda: _write_off(sim, loan))
    return event_id


def _write_off(sim: Sim, loan: LoanState) -> None:
    if loan.status != "default":
        return
    dpd = days_past_due(sim, loan)
    sim.set_outstanding(loan, 0)
    loan.status = "closed"
    sim.emit_loan(loan, "written_off", dpd=dpd)


def cure(sim: Sim, loan: LoanState, rng: random.Random) -> None:
    """The borrower pays what is due: back to current."""
    if loan.status != "overdue":
        return
    payment = min(installment_c(loan), loan.outstanding_c)
    sim.set_outstanding(loan, loan.outstanding_c - payment)
    loan.paid = min(loan.paid + 1, loan.n_payments - 1) if loan.outstanding_c else loan.n_payments
    if loan.outstanding_c <= 0:
        loan.status = "closed"
        sim.emit_loan(loan, "repayment", payment_c=payment)
        return
    loan.status = "current"
    sim.emit_loan(loan, "repayment", payment_c=payment)
    sim.at(sim.now + 30 * DAY, lambda: pay_installment(sim, loan, loan.paid + 1, rng))
