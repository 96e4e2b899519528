"""Background guarantees: guarantee companies' clients, and enterprises guaranteeing each other.

Guarantee companies issue and release at a stable rate, stay near 1–2× leverage, keep every
debtor under 2.5 % of net assets and related debtors under 3 %, and compensate rarely (at most
once a week each). Enterprise guarantees, reported by the lending bank, only ever run from an
earlier enterprise to a later one in a fixed order, so the background graph has no cycle; no
enterprise in it is ever compensated for.
"""

from __future__ import annotations

import random

from stream.simulator.book import GuaranteeState, GuarantorBook
from stream.simulator.clock import DAY, HOUR
from stream.simulator.runtime import Sim
from stream.simulator.world import Borrower, InstitutionState

OPENS, CLOSES = 8 * HOUR, 20 * HOUR
GUARANTEE_SHARE, DEBTOR_SHARE, RELATED_SHARE = 0.015, 0.025, 0.03
#: Background compensations per guarantee company: at most one in this many seconds.
COMPENSATION_GAP = 8 * DAY
#: Active guarantees an enterprise may give or receive in the background network.
MAX_DEGREE = 2


def new_guarantee(
    sim: Sim,
    *,
    institution_id: str,
    guarantor_id: str,
    guarantor_type: str,
    debtor: Borrower,
    creditor_id: str,
    amount_c: int,
    fee_rate: float | None = None,
    related: bool = False,
    managed: bool = False,
) -> GuaranteeState:
    g = GuaranteeState(
        guarantee_id=sim.new_id("GU", 8),
        institution_id=institution_id,
        guarantor_id=guarantor_id,
        guarantor_type=guarantor_type,
        debtor=debtor,
        creditor_id=creditor_id,
        amount_c=amount_c,
        outstanding_c=0,
        fee_rate=fee_rate,
        related=related,
        firm=sim.guarantors[guarantor_id].profile if guarantor_id in sim.guarantors else None,
        managed=managed,
    )
    sim.set_guarantee_outstanding(g, amount_c)
    book = sim.guarantors.get(guarantor_id)
    if book is not None:
        book.guarantees.append(g)
    return g


def release(sim: Sim, g: GuaranteeState) -> None:
    if g.status != "active" or g.managed:
        return
    sim.set_guarantee_outstanding(g, 0)
    g.status = "released"
    sim.emit_guarantee(g, "released")


def compensate(sim: Sim, g: GuaranteeState, rng: random.Random, share: float) -> str:
    """The guarantor pays the creditor for a defaulted debtor (代偿); nothing remains."""
    paid = max(100, round(g.outstanding_c * share))
    sim.set_guarantee_outstanding(g, 0)
    g.status = "compensated"
    event_id = sim.emit_guarantee(g, "compensated", compensation_c=paid)
    if rng.random() < 0.4:
        back = max(100, round(paid * rng.uniform(0.1, 0.6)))
        sim.at(
            sim.now + rng.randint(10 * DAY, 40 * DAY),
            lambda: sim.emit_guarantee(g, "recovered", recovered_c=back),
        )
    return event_id


def draw_amount_c(rng: random.Random, book: GuarantorBook) -> int:
    inst = book.profile.inst
    amount = book.profile.median_amount * min(rng.lognormvariate(0, 0.5), 3.0)
    amount = min(amount, GUARANTEE_SHARE * inst.net_assets)
    return max(1_000_000, round(amount / 1000) * 100_000)


def issue_for_client(
    sim: Sim,
    book: GuarantorBook,
    rng: random.Random,
    *,
    related: bool = False,
    debtor: Borrower | None = None,
    amount_c: int | None = None,
    managed: bool = False,
    term_days: int | None = None,
) -> GuaranteeState:
    """A guarantee company guarantees a client's loan from a bank (it reports it itself)."""
    profile = book.profile
    g = new_guarantee(
        sim,
        institution_id=profile.inst.institution_id,
        guarantor_id=profile.inst.institution_id,
        guarantor_type="guarantee_company",
        debtor=debtor or rng.choice(profile.related if related else profile.debtors),
        creditor_id=rng.choice(profile.creditors),
        amount_c=amount_c if amount_c is not None else draw_amount_c(rng, book),
        fee_rate=round(rng.uniform(0.01, 0.03), 4),
        related=related,
        managed=managed,
    )
    sim.emit_guarantee(g, "issued")
    term = term_days or rng.choice((180, 270, 365, 540, 720))
    sim.at(sim.now + term * DAY, lambda: release(sim, g))
    return g


def start_guarantor(sim: Sim, book: GuarantorBook, rng: random.Random, live: int) -> None:
    per_second = book.profile.issue_per_day / (CLOSES - OPENS)
    comp_per_second = 0.06 / (CLOSES - OPENS)

    def issue() -> None:
        _issue(sim, book, rng)
        sim.at(_next(sim, rng.expovariate(per_second)), issue)

    def compensation() -> None:
        _background_compensation(sim, book, rng)
        sim.at(_next(sim, rng.expovariate(comp_per_second)), compensation)

    clock = sim.clock
    sim.at(clock.advance(live, rng.expovariate(per_second), opens=OPENS, closes=CLOSES), issue)
    sim.at(
        clock.advance(live, rng.expovariate(comp_per_second), opens=OPENS, closes=CLOSES),
        compensation,
    )


def _next(sim: Sim, gap: float) -> int:
    return sim.clock.advance(sim.now, gap, opens=OPENS, closes=CLOSES)


def _issue(sim: Sim, book: GuarantorBook, rng: random.Random) -> None:
    inst = book.profile.inst
    if not inst.active:
        return
    recent = book.recent_issued
    while recent and recent[0] <= sim.now - DAY:
        recent.popleft()
    lam = book.profile.issue_per_day
    if len(recent) >= max(2, int(min(2.2 * lam, lam + 3.5))):
        return
    related = bool(book.profile.related) and rng.random() < 0.015
    debtor = rng.choice(book.profile.related if related else book.profile.debtors)
    amount_c = draw_amount_c(rng, book)
    if book.exposure_c.get(debtor.borrower_id, 0) + amount_c > DEBTOR_SHARE * inst.net_assets * 100:
        return
    if related and book.related_c + amount_c > RELATED_SHARE * inst.net_assets * 100:
        return
    recent.append(sim.now)
    issue_for_client(sim, book, rng, related=related, debtor=debtor, amount_c=amount_c)


def _background_compensation(sim: Sim, book: GuarantorBook, rng: random.Random) -> None:
    if sim.now - book.last_compensation < COMPENSATION_GAP:
        return
    candidates = [g for g in book.guarantees[-200:] if g.status == "active" and not g.managed]
    if not candidates:
        return
    book.last_compensation = sim.now
    compensate(sim, rng.choice(candidates), rng, rng.uniform(0.3, 1.0))


class EnterpriseNetwork:
    """Enterprises guaranteeing each other's bank loans, acyclic by construction."""

    def __init__(self, sim: Sim, rng: random.Random) -> None:
        self.sim = sim
        self.rng = rng
        self.nodes = sim.world.network
        self.degree: dict[str, int] = {}
        self.banks: list[InstitutionState] = sim.world.banks

    def edge(self, *, start_t_days: float = 0.0) -> GuaranteeState | None:
        """Issue one guarantee from an earlier to a later enterprise of the fixed order."""
        rng, n = self.rng, len(self.nodes)
        i, j = sorted(rng.sample(range(n), 2))
        g_node, d_node = self.nodes[i], self.nodes[j]
        if any(self.degree.get(x.borrower_id, 0) >= MAX_DEGREE for x in (g_node, d_node)):
            return None
        banks = [b for b in self.banks if b.active]
        if not banks:
            return None
        bank = rng.choice(banks)
        amount_c = round(rng.lognormvariate(14.5, 0.6) / 1000) * 100_000 + 100_000
        g = new_guarantee(
            self.sim,
            institution_id=bank.institution_id,
            guarantor_id=g_node.borrower_id,
            guarantor_type="enterprise",
            debtor=d_node,
            creditor_id=bank.institution_id,
            amount_c=amount_c,
        )
        for node in (g_node, d_node):
            self.degree[node.borrower_id] = self.degree.get(node.borrower_id, 0) + 1
        self.sim.emit_guarantee(g, "issued")
        remaining = rng.choice((180, 365, 540, 720)) - start_t_days
        self.sim.at(self.sim.now + int(max(1.0, remaining) * DAY), lambda: self._release(g))
        return g

    def _release(self, g: GuaranteeState) -> None:
        if g.status != "active":
            return
        release(self.sim, g)
        for node in (g.guarantor_id, g.debtor.borrower_id):
            self.degree[node] = self.degree.get(node, 1) - 1

    def start(self, live: int) -> None:
        per_second = max(4.0, len(self.nodes) / 60) / (CLOSES - OPENS)

        def issue() -> None:
            self.edge()
            self.sim.at(_next(self.sim, self.rng.expovariate(per_second)), issue)

        self.sim.at(
            self.sim.clock.advance(
                live, self.rng.expovariate(per_second), opens=OPENS, closes=CLOSES
            ),
            issue,
        )
