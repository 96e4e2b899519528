"""Guarantee scenarios: leverage, concentration, circles, contagion, compensation spikes."""

from __future__ import annotations

import random
from functools import partial

from stream.simulator import guaranteeing
from stream.simulator.book import GuaranteeState, GuarantorBook
from stream.simulator.clock import DAY, HOUR
from stream.simulator.runtime import LabelDraft, Sim
from stream.simulator.world import Borrower, InstitutionState, new_borrower


def _debtor(sim: Sim, rng: random.Random, region: str, *, enterprise: bool = True) -> Borrower:
    return new_borrower(rng, sim.world.ids, region, enterprise=enterprise)


def guarantee_leverage(
    sim: Sim, book: GuarantorBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """Large guarantees (9.5 % of net assets each, to new debtors) over two days until the
    company's outstanding passes 1.05 × its limit (10 ×, or 15 × when serving small/micro)."""
    inst = book.profile.inst
    draft.institution_id = draft.entity_id = inst.institution_id
    draft.persistent = True
    amount_c = int(0.095 * inst.net_assets) * 100
    multiple = 15 if inst.serves_small_micro else 10
    limit = multiple * inst.net_assets * 100

    def one() -> None:
        target = 1.05 * multiple * inst.net_assets * 100
        if book.outstanding_c > target:
            return
        guaranteeing.issue_for_client(
            sim,
            book,
            rng,
            debtor=_debtor(sim, rng, inst.region_code),
            amount_c=amount_c,
            managed=True,
            term_days=365,
        )
        draft.add(_last_event(sim), sim.now, breach=book.outstanding_c > limit)
        sim.at(sim.now + rng.randint(600, 1800), one)

    sim.at(t0, one)


def _last_event(sim: Sim) -> str:
    return str(sim.out[-1].value["event_id"])


def guarantee_concentration(
    sim: Sim,
    book: GuarantorBook,
    t0: int,
    rng: random.Random,
    draft: LabelDraft,
    *,
    related: bool = False,
) -> None:
    """Either one new debtor guaranteed twice up to 11–12 % of net assets (the label names the
    debtor), or four new related debtors taking the related total above 15 % (names the
    guarantor)."""
    inst = book.profile.inst
    draft.institution_id = inst.institution_id
    draft.persistent = True
    if not related:
        debtor = _debtor(sim, rng, inst.region_code)
        draft.entity_type, draft.entity_id = "borrower", debtor.borrower_id
        total = rng.uniform(0.11, 0.12) * inst.net_assets
        first = int(total * 0.55) * 100
        second = int(total * 0.45) * 100

        def issue(amount_c: int, breach: bool) -> None:
            guaranteeing.issue_for_client(
                sim, book, rng, debtor=debtor, amount_c=amount_c, managed=True
            )
            draft.add(_last_event(sim), sim.now, breach=breach)

        sim.at(t0, lambda: issue(first, False))
        sim.at(t0 + rng.randint(4 * HOUR, 20 * HOUR), lambda: issue(second, True))
        return
    draft.entity_type, draft.entity_id = "institution", inst.institution_id
    n = 4
    share: dict[str, int] = {}

    def one_related() -> None:
        limit = 0.15 * inst.net_assets * 100
        if "c" not in share:
            room = limit - book.related_c
            share["c"] = int(rng.uniform(room / n * 1.03, room / (n - 1) * 0.97) / 100) * 100
        share["made"] = share.get("made", 0) + 1
        amount_c = share["c"]
        if share["made"] == n:  # whatever happened meanwhile, the last one crosses
            amount_c = max(amount_c, int((limit * 1.02 - book.related_c) / 100) * 100)
        debtor = _debtor(sim, rng, inst.region_code)
        debtor.related_to = inst.institution_id
        crossing = book.related_c <= limit < book.related_c + amount_c
        guaranteeing.issue_for_client(
            sim, book, rng, debtor=debtor, amount_c=amount_c, related=True, managed=True
        )
        draft.add(_last_event(sim), sim.now, breach=crossing)

    for i in range(n):
        sim.at(t0 + i * 5 * HOUR + rng.randint(0, 2 * HOUR), one_related)


def compensation_spike(
    sim: Sim, book: GuarantorBook, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """7–10 of the company's guarantees compensated within 16 hours (its background is at most
    one a week)."""
    inst = book.profile.inst
    draft.institution_id = draft.entity_id = inst.institution_id

    def start() -> None:
        active = [g for g in book.guarantees if g.status == "active" and not g.managed]
        chosen = rng.sample(active, min(len(active), rng.randint(7, 10)))
        for g in chosen:
            g.managed = True
        book.last_compensation = sim.now + DAY
        for g, offset in zip(
            chosen, sorted(rng.randint(0, 16 * HOUR) for _ in chosen), strict=True
        ):
            sim.at(t0 + offset, partial(pay, g))

    def pay(g: GuaranteeState) -> None:
        draft.add(guaranteeing.compensate(sim, g, rng, rng.uniform(0.5, 1.0)), sim.now)

    sim.at(t0, start)


def _enterprise_edge(
    sim: Sim, bank: InstitutionState, guarantor: Borrower, debtor: Borrower, amount_c: int
) -> tuple[GuaranteeState, str]:
    g = guaranteeing.new_guarantee(
        sim,
        institution_id=bank.institution_id,
        guarantor_id=guarantor.borrower_id,
        guarantor_type="enterprise",
        debtor=debtor,
        creditor_id=bank.institution_id,
        amount_c=amount_c,
        managed=True,
    )
    return g, sim.emit_guarantee(g, "issued")


def guarantee_circle(
    sim: Sim, bank: InstitutionState, t0: int, rng: random.Random, draft: LabelDraft
) -> None:
    """2–6 new enterprises guarantee each other's loans at one bank in a ring (2 = a mutual
    pair), the ring closing within 36 hours. The label names the smallest member id."""
    draft.institution_id = bank.institution_id
    size = rng.choice((2, 3, 3, 4, 5, 6))
    members = [_debtor(sim, rng, bank.region_code) for _ in range(size)]
    draft.entity_id = min(m.borrower_id for m in members)
    offsets = sorted(rng.randint(0, 36 * HOUR) for _ in members)
    for i, offset in enumerate(offsets):
        guarantor, debtor = members[i], members[(i + 1) % size]

        def edge(
            guarantor: Borrower = guarantor,
            debtor: Borrower = debtor,
            closing: bool = i == size - 1,
        ) -> None:
            amount_c = rng.randint(20, 100) * 10_000_000
            _, event_id = _enterprise_edge(sim, bank, guarantor, debtor, amount_c)
            draft.add(event_id, sim.now, breach=closing)

        sim.at(t0 + offset, edge)


def guarantee_contagion(
    sim: Sim,
    target: tuple[GuarantorBook, InstitutionState],
    t0: int,
    rng: random.Random,
    draft: LabelDraft,
) -> None:
    """An enterprise whose bank loans are guaranteed by 3–5 enterprises (themselves guaranteed
    by others) and by a guarantee company fails: the company compensates. The label names the
    failing enterprise and the company that reports the compensation."""
    book, bank = target
    inst = book.profile.inst
    hub = _debtor(sim, rng, inst.region_code)
    draft.entity_id, draft.institution_id = hub.borrower_id, inst.institution_id
    state: dict[str, GuaranteeState] = {}

    def build() -> None:
        for _ in range(rng.randint(3, 5)):
            guarantor = _debtor(sim, rng, bank.region_code)
            _, event_id = _enterprise_edge(sim, bank, guarantor, hub, rng.randint(5, 20) * 10**8)
            draft.add(event_id, sim.now, window=False)
            for _ in range(rng.randint(0, 2)):
                upper = _debtor(sim, rng, bank.region_code)
                _, event_id = _enterprise_edge(
                    sim, bank, upper, guarantor, rng.randint(3, 10) * 10**8
                )
                draft.add(event_id, sim.now, window=False)
        amount_c = int(0.012 * inst.net_assets) * 100
        state["g"] = guaranteeing.issue_for_client(
            sim, book, rng, debtor=hub, amount_c=amount_c, managed=True
        )
        draft.add(_last_event(sim), sim.now, window=False)

    def fail() -> None:
        book.last_compensation = sim.now + DAY
        draft.add(guaranteeing.compensate(sim, state["g"], rng, 1.0), sim.now)

    sim.at(t0 - rng.randint(2 * DAY, 4 * DAY), build)
    sim.at(t0, fail)
