"""Institution scenarios: new business without a licence, escalation, regional clusters."""

from __future__ import annotations

import random

from models.categories import Category
from stream.simulator import guaranteeing, lending, trading
from stream.simulator.book import GuarantorBook, LenderBook, LoanState, ProductBook
from stream.simulator.clock import DAY, HOUR
from stream.simulator.runtime import LabelDraft, Sim
from stream.simulator.scenarios import guarantees, loans
from stream.simulator.world import InstitutionState, LenderProfile, new_borrower

BLOCKED = ("suspended", "revoked", "in_liquidation")
Business = LenderBook | GuarantorBook | ProductBook


def unlicensed_activity(
    sim: Sim, target: Business | None, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """The institution's record turns suspended, revoked or in liquidation; a day or two later
    it still does new business (loans, guarantees or trades). With no target: loans from an
    institution that was never registered."""
    if target is None:
        _unknown_lender(sim, t0, rng, draft)
        return
    inst = _institution(target)
    draft.institution_id = draft.entity_id = inst.institution_id

    def withdraw() -> None:
        inst.license_status = rng.choice(BLOCKED)
        sim.emit_institution(inst)

    def business() -> None:
        if isinstance(target, LenderBook):
            borrower = rng.choice(target.profile.pool)
            amount, rate, term, collateral = lending.draw_terms(rng, target.profile, borrower)
            loan = lending.new_loan(sim, target, borrower, amount, rate, term, collateral)
            draft.add(sim.emit_loan(loan, "originated"), sim.now)
            lending.schedule_payment(sim, loan, rng)
        elif isinstance(target, GuarantorBook):
            guaranteeing.issue_for_client(sim, target, rng)
            draft.add(str(sim.out[-1].value["event_id"]), sim.now)
        else:
            product = target.product
            buyer, seller = rng.choice(product.buyers), rng.choice(product.sellers)
            price = trading.next_price(target, rng)
            event_id = sim.emit_trade(
                target, buyer, seller, price, trading.draw_quantity(target, rng)
            )
            draft.add(event_id, sim.now)

    sim.at(t0 - rng.randint(6 * HOUR, 2 * DAY), withdraw)
    if isinstance(target, ProductBook):
        first = trading.next_session(sim, t0, 1)
        for i in range(rng.randint(2, 3)):
            sim.at(first + i * rng.randint(600, 3600), business)
    else:
        for i in range(rng.randint(2, 3)):
            sim.at(t0 + i * rng.randint(2 * HOUR, 10 * HOUR), business)


def _institution(target: Business) -> InstitutionState:
    if isinstance(target, ProductBook):
        return target.product.venue
    return target.profile.inst


def _unknown_lender(sim: Sim, t0: int, rng: random.Random, draft: LabelDraft) -> None:
    template = rng.choice(sim.world.lenders)
    region = template.inst.region_code
    inst = InstitutionState(
        f"FJ-PL-{9000 + sim.world.ids.next('unknown')}", "未登记", "private_lending", region, 0, 0
    )
    profile = LenderProfile(
        inst=inst,
        orig_per_day=0.0,
        overdue_per_day=0.0,
        median_individual=template.median_individual,
        median_enterprise=template.median_enterprise,
        enterprise_share=template.enterprise_share,
        rate_mean=0.10,
        rate_sd=0.005,
        terms=(30, 90, 180),
        collateral=(("none", 1.0),),
    )
    draft.institution_id = draft.entity_id = inst.institution_id

    def one() -> None:
        borrower = new_borrower(rng, sim.world.ids, region, enterprise=rng.random() < 0.3)
        amount_c = int(profile.median_individual * rng.uniform(0.5, 1.5)) * 100
        loan = LoanState(
            loan_id=sim.new_id("LN", 8),
            lender=profile,
            borrower=borrower,
            principal_c=amount_c,
            outstanding_c=amount_c,
            rate=round(rng.uniform(0.08, 0.11), 4),
            term_days=rng.choice(profile.terms),
            collateral="none",
            related=False,
            start_t=sim.now,
            risk=0.0,
            n_payments=1,
            managed=True,
        )
        draft.add(sim.emit_loan(loan, "originated"), sim.now)

    for i in range(rng.randint(2, 3)):
        sim.at(t0 + i * rng.randint(2 * HOUR, 10 * HOUR), one)


#: Parts an escalation scenario can combine at one lender.
ESCALATION_PARTS = (
    Category.USURIOUS_RATE,
    Category.EVERGREENING,
    Category.DELINQUENCY_SPIKE,
    Category.LENDING_SURGE,
)


def institution_risk_escalation(
    sim: Sim,
    book: LenderBook,
    t0: int,
    rng: random.Random,
    draft: LabelDraft,
    parts: list[Category],
) -> None:
    """Three categories at one lender within about two days; each part is labelled too, and
    the escalation's window spans them."""
    inst = book.profile.inst
    draft.institution_id = draft.entity_id = inst.institution_id
    for category in parts:
        part = sim.draft(category, _ENTITY_TYPES[category])
        draft.parts.append(part)
        start = t0 + rng.randint(0, DAY)
        if category == Category.EVERGREENING:
            loans.evergreening(sim, book, t0 - DAY, rng, part, gaps=(8 * HOUR, 16 * HOUR))
        else:
            _LOAN_PARTS[category](sim, book, start, rng, part)


_LOAN_PARTS = {
    Category.USURIOUS_RATE: loans.usurious_rate,
    Category.DELINQUENCY_SPIKE: loans.delinquency_spike,
    Category.LENDING_SURGE: loans.lending_surge,
}

_ENTITY_TYPES = {
    Category.USURIOUS_RATE: "loan",
    Category.EVERGREENING: "loan",
    Category.DELINQUENCY_SPIKE: "institution",
    Category.LENDING_SURGE: "institution",
    Category.COMPENSATION_SPIKE: "institution",
}


def regional_cluster(
    sim: Sim,
    members: list[LenderBook | GuarantorBook],
    t0: int,
    rng: random.Random,
    draft: LabelDraft,
) -> None:
    """Delinquency spikes (lenders) or compensation spikes (guarantee companies) at three
    institutions of one prefecture within three days; each spike is labelled too."""
    draft.entity_id = members[0].profile.inst.region_code
    draft.institution_id = ""
    for member in members:
        start = t0 + rng.randint(0, 3 * DAY)
        if isinstance(member, LenderBook):
            part = sim.draft(Category.DELINQUENCY_SPIKE, "institution")
            loans.delinquency_spike(sim, member, start, rng, part)
        else:
            part = sim.draft(Category.COMPENSATION_SPIKE, "institution")
            guarantees.compensation_spike(sim, member, start, rng, part)
        draft.parts.append(part)
