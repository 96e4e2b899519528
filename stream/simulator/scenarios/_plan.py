"""Scenario planning: which risk scenarios happen where and when, and their labels.

``plan_scenarios`` places every injection of the configured mix at a random time after the
warm-up, spread over the run, at an entity that no other scenario uses nearby (see
``_planner``), and lets the injector schedule its events. Labels name what an alert would name
(docs/architecture.md); docs/simulator.md describes each scenario.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from models.categories import Category
from stream.simulator.book import GuarantorBook, LenderBook, ProductBook
from stream.simulator.clock import DAY
from stream.simulator.config import SimulatorConfig
from stream.simulator.runtime import Sim
from stream.simulator.scenarios import guarantees, institutions, loans, trades
from stream.simulator.scenarios._planner import Planner
from stream.simulator.world import InstitutionState

logger = logging.getLogger(__name__)
C = Category

ENTITY_TYPES: dict[Category, str] = {
    C.USURIOUS_RATE: "loan",
    C.BORROWER_CONCENTRATION: "borrower",
    C.RELATED_PARTY_LENDING: "institution",
    C.DELINQUENCY_SPIKE: "institution",
    C.EVERGREENING: "loan",
    C.MULTI_LENDER_BORROWING: "borrower",
    C.LENDING_SURGE: "institution",
    C.LOAN_ANOMALY: "loan",
    C.DEFAULT_RISK: "loan",
    C.GUARANTEE_LEVERAGE: "guarantor",
    C.GUARANTEE_CONCENTRATION: "borrower",
    C.GUARANTEE_CIRCLE: "guarantee_network",
    C.GUARANTEE_CONTAGION: "guarantee_network",
    C.COMPENSATION_SPIKE: "institution",
    C.WASH_TRADE: "product",
    C.PRICE_MANIPULATION: "product",
    C.VOLUME_ANOMALY: "product",
    C.PROHIBITED_TRADING_MODE: "product",
    C.T_PLUS_5_VIOLATION: "owner",
    C.HOLDER_LIMIT: "product",
    C.UNLICENSED_ACTIVITY: "institution",
    C.INSTITUTION_RISK_ESCALATION: "institution",
    C.REGIONAL_CLUSTER: "region",
}


@dataclass(frozen=True)
class _Spec:
    """How to place one category: its span (planning and booking) and eligible targets."""

    span: int
    targets: Callable[[Sim], Sequence[Any]]
    inject: Callable[..., None]
    booked: int = 0  # seconds booked after the start (default: span)


def _lenders(min_rate: float = 0.0, types: tuple[str, ...] = ()) -> Callable[[Sim], list[Any]]:
    def pick(sim: Sim) -> list[Any]:
        return [
            b
            for b in sim.lenders.values()
            if b.profile.inst.active
            and b.profile.orig_per_day >= min_rate
            and (not types or b.profile.inst.institution_type in types)
        ]

    return pick


def _guarantors(sim: Sim) -> list[Any]:
    return [b for b in sim.guarantors.values() if b.profile.inst.active]


def _products(min_rate: float, busy: bool = False) -> Callable[[Sim], list[Any]]:
    def pick(sim: Sim) -> list[Any]:
        return [
            b
            for b in sim.products.values()
            if b.product.venue.active
            and b.product.trades_per_day >= min_rate
            and (not busy or b.product.trades_per_day >= 20)
        ]

    return pick


def _banks(sim: Sim) -> list[Any]:
    return [b for b in sim.world.banks if b.active]


SPECS: dict[Category, _Spec] = {
    C.USURIOUS_RATE: _Spec(DAY, _lenders(), loans.usurious_rate),
    C.BORROWER_CONCENTRATION: _Spec(
        7 * DAY, _lenders(1.0, ("microcredit",)), loans.borrower_concentration
    ),
    C.RELATED_PARTY_LENDING: _Spec(
        8 * DAY, _lenders(1.0, ("microcredit",)), loans.related_party_lending
    ),
    C.DELINQUENCY_SPIKE: _Spec(2 * DAY, _lenders(2.0), loans.delinquency_spike),
    C.EVERGREENING: _Spec(10 * DAY, _lenders(1.0), loans.evergreening),
    C.LENDING_SURGE: _Spec(DAY, _lenders(1.5), loans.lending_surge),
    C.LOAN_ANOMALY: _Spec(2 * DAY, _lenders(1.0), loans.loan_anomaly),
    C.DEFAULT_RISK: _Spec(2 * DAY, _lenders(2.0), loans.default_risk, booked=16 * DAY),
    C.GUARANTEE_LEVERAGE: _Spec(4 * DAY, _guarantors, guarantees.guarantee_leverage),
    C.COMPENSATION_SPIKE: _Spec(DAY, _guarantors, guarantees.compensation_spike),
    C.GUARANTEE_CIRCLE: _Spec(2 * DAY, _banks, guarantees.guarantee_circle),
    C.PRICE_MANIPULATION: _Spec(4 * DAY, _products(5.0), trades.price_manipulation),
    C.VOLUME_ANOMALY: _Spec(3 * DAY, _products(3.0), trades.volume_anomaly),
    C.PROHIBITED_TRADING_MODE: _Spec(4 * DAY, _products(3.0), trades.prohibited_trading_mode),
    C.T_PLUS_5_VIOLATION: _Spec(7 * DAY, _products(2.0), trades.t_plus_5_violation),
    C.HOLDER_LIMIT: _Spec(10 * DAY, _products(20.0, busy=True), trades.holder_limit),
}


def _institutions_of(target: Any) -> list[InstitutionState]:
    if isinstance(target, LenderBook | GuarantorBook):
        return [target.profile.inst]
    if isinstance(target, ProductBook):
        return [target.product.venue]
    if isinstance(target, InstitutionState):
        return [target]
    if isinstance(target, tuple | list):
        return [inst for part in target for inst in _institutions_of(part)]
    return []


#: Breaches that stand until the run ends (a book over its limit stays over it): injecting
#: one again at the same entity would find it breached already and can only go wrong.
STANDING = frozenset(
    str(c)
    for c in (
        C.BORROWER_CONCENTRATION,
        C.RELATED_PARTY_LENDING,
        C.GUARANTEE_CONCENTRATION,
        C.GUARANTEE_LEVERAGE,
        C.HOLDER_LIMIT,
    )
)


def _standing_keys(target: Any, categories: frozenset[str]) -> set[tuple[str, str]]:
    """(category, entity) pairs a standing-breach scenario occupies for the rest of the run."""
    if isinstance(target, ProductBook):
        ids = [target.product.product_id]
    else:
        ids = [inst.institution_id for inst in _institutions_of(target)]
    return {(cat, i) for cat in categories & STANDING for i in ids}


class _Placer:
    def __init__(self, sim: Sim, rng: random.Random, planner: Planner) -> None:
        self.sim, self.rng, self.planner = sim, rng, planner
        self.products: dict[str, list[tuple[int, int]]] = {}
        self.standing: set[tuple[str, str]] = set()

    def place(
        self,
        targets: Sequence[Any],
        t0: int,
        span: int,
        categories: frozenset[str],
        *,
        lead: int = 0,
        exclusive: bool = False,
        forever: bool = False,
    ) -> Any | None:
        """A random target free from ``t0 - lead`` to ``t0 + span``, booked; or None."""
        candidates = list(targets)
        self.rng.shuffle(candidates)
        for target in candidates[:60]:
            insts = _institutions_of(target)
            if not insts and target is not None:
                continue
            standing = _standing_keys(target, categories)
            if standing & self.standing:
                continue
            limit = 2 if isinstance(target, ProductBook) else 1
            if not self.planner.free(
                insts,
                t0 - lead,
                t0 + span,
                categories,
                exclusive=exclusive,
                max_categories=limit,
                forever=forever,
            ):
                continue
            if isinstance(target, ProductBook) and not self.claim_product(target, t0, span):
                continue
            # A standing breach on a product keeps firing as holders trade: it occupies one of
            # its venue's category slots to the end, so no unlabelled escalation can emerge.
            end = self.planner.latest if standing and isinstance(target, ProductBook) else t0 + span
            self.planner.book(insts, t0 - lead, end, categories, exclusive=exclusive)
            self.standing |= standing
            if forever:
                for inst in insts:
                    self.planner.retire(inst, t0 - lead)
            return target
        return None

    def claim_product(self, book: ProductBook, t0: int, span: int) -> bool:
        """Take the product from ``t0`` for ``span`` unless a scenario has it nearby."""
        pid = book.product.product_id
        busy = self.products.setdefault(pid, [])
        lo, hi = t0 - 3 * DAY, t0 + span + 3 * DAY
        if any(a < hi and b > lo for a, b in busy):
            return False
        busy.append((t0, t0 + span))
        return True


def plan_scenarios(sim: Sim, cfg: SimulatorConfig, duration: int, rng: random.Random) -> None:
    """Place and schedule every injection of ``cfg``'s scenario mix."""
    mix = cfg.scenario_mix()
    days = duration / DAY
    warmup = cfg.warmup_days if cfg.warmup_days is not None else min(7.0, max(3.5, days / 4))
    planner = Planner(earliest=int(warmup * DAY), latest=int(duration - max(DAY, duration * 0.06)))
    placer = _Placer(sim, rng, planner)
    order = [C.REGIONAL_CLUSTER, C.INSTITUTION_RISK_ESCALATION, C.UNLICENSED_ACTIVITY]
    order += [C.HOLDER_LIMIT, C.WASH_TRADE]  # the scarcest targets next
    order += [c for c in mix if c not in order]
    slots: list[tuple[Category, int, int]] = []
    for category in order:
        count = mix.get(category, 0)
        if count:
            span = _span(category)
            for i, t0 in enumerate(planner.times(rng, count, span)):
                slots.append((category, i, t0))
    # Composite and licence scenarios first (they need their entity alone), then the rest
    # round-robin so a crowded run starves no category.
    slots.sort(key=lambda s: (order.index(s[0]) >= 3, s[1], order.index(s[0])))
    for category, index, t0 in slots:
        placed = False
        for attempt in range(6):
            start = t0 if attempt == 0 else _random_time(rng, planner, _span(category))
            if start is not None and _inject(sim, placer, category, index, start, rng):
                placed = True
                break
        if not placed:
            logger.warning("no room for a %s scenario; skipped", category)


def _span(category: Category) -> int:
    if category in SPECS:
        return SPECS[category].span
    return {
        C.MULTI_LENDER_BORROWING: 5 * DAY,
        C.GUARANTEE_CONCENTRATION: DAY,
        C.GUARANTEE_CONTAGION: DAY,
        C.WASH_TRADE: 4 * DAY,
        C.UNLICENSED_ACTIVITY: 2 * DAY,
        C.INSTITUTION_RISK_ESCALATION: 3 * DAY,
        C.REGIONAL_CLUSTER: 4 * DAY,
    }[category]


def _random_time(rng: random.Random, planner: Planner, span: int) -> int | None:
    last = planner.latest - span
    if last <= planner.earliest:
        return None
    return rng.randint(planner.earliest, last)


def _inject(
    sim: Sim, placer: _Placer, category: Category, index: int, t0: int, rng: random.Random
) -> bool:
    cats = frozenset({str(category)})
    span = _span(category)
    if category in SPECS:
        spec = SPECS[category]
        target = placer.place(spec.targets(sim), t0, spec.booked or span, cats)
        if target is None:
            return False
        spec.inject(sim, target, t0, rng, sim.draft(category, ENTITY_TYPES[category]))
        return True
    handler = _SPECIAL[category]
    return handler(sim, placer, index, t0, rng)


def _multi_lender(sim: Sim, placer: _Placer, index: int, t0: int, rng: random.Random) -> bool:
    pool = _lenders(1.0, ("microcredit", "private_lending", "pawn", "local_bank"))(sim)
    cats = frozenset({str(C.MULTI_LENDER_BORROWING)})
    for _ in range(20):
        group = rng.sample(pool, min(len(pool), rng.randint(5, 6)))
        if len(group) < 5:
            return False
        if placer.place([tuple(group)], t0, 5 * DAY, cats) is not None:
            draft = sim.draft(C.MULTI_LENDER_BORROWING, "borrower")
            loans.multi_lender_borrowing(sim, group, t0, rng, draft)
            return True
    return False


def _guarantee_concentration(
    sim: Sim, placer: _Placer, index: int, t0: int, rng: random.Random
) -> bool:
    cats = frozenset({str(C.GUARANTEE_CONCENTRATION)})
    target = placer.place(_guarantors(sim), t0, DAY, cats)
    if target is None:
        return False
    related = index % 2 == 1
    draft = sim.draft(C.GUARANTEE_CONCENTRATION, "institution" if related else "borrower")
    guarantees.guarantee_concentration(sim, target, t0, rng, draft, related=related)
    return True


def _guarantee_contagion(
    sim: Sim, placer: _Placer, index: int, t0: int, rng: random.Random
) -> bool:
    banks = _banks(sim)
    if not banks:
        return False
    cats = frozenset({str(C.GUARANTEE_CONTAGION)})
    target = placer.place(_guarantors(sim), t0, DAY, cats, lead=4 * DAY)
    if target is None:
        return False
    draft = sim.draft(C.GUARANTEE_CONTAGION, "guarantee_network")
    guarantees.guarantee_contagion(sim, (target, rng.choice(banks)), t0, rng, draft)
    return True


def _wash_trade(sim: Sim, placer: _Placer, index: int, t0: int, rng: random.Random) -> bool:
    cats = frozenset({str(C.WASH_TRADE), str(C.T_PLUS_5_VIOLATION)})
    target = placer.place(_products(4.0)(sim), t0, 4 * DAY, cats)
    if target is None:
        return False
    draft = sim.draft(C.WASH_TRADE, "product")
    owners = [sim.draft(C.T_PLUS_5_VIOLATION, "owner") for _ in range(1 if index % 2 == 0 else 3)]
    trades.wash_trade(sim, target, t0, rng, draft, owners)
    return True


def _unlicensed(sim: Sim, placer: _Placer, index: int, t0: int, rng: random.Random) -> bool:
    cats = frozenset({str(C.UNLICENSED_ACTIVITY)})
    variant = index % 4
    if variant == 2:
        draft = sim.draft(C.UNLICENSED_ACTIVITY, "institution")
        institutions.unlicensed_activity(sim, None, t0, rng, draft)
        return True
    targets: Sequence[Any] = (
        _lenders(0.5)(sim)
        if variant == 0
        else _guarantors(sim)
        if variant == 1
        else [b for b in _products(2.0)(sim) if b.product.trades_per_day < 20]
    )
    target = placer.place(targets, t0, 2 * DAY, cats, lead=2 * DAY, forever=True)
    if target is None:
        return False
    if isinstance(target, ProductBook):  # the whole venue stops trading: no later scenario
        venue = target.product.venue
        for other in sim.products.values():
            if other.product.venue is venue:
                placer.claim_product(other, t0, 10**9)
    draft = sim.draft(C.UNLICENSED_ACTIVITY, "institution")
    institutions.unlicensed_activity(sim, target, t0, rng, draft)
    return True


def _escalation(sim: Sim, placer: _Placer, index: int, t0: int, rng: random.Random) -> bool:
    parts = rng.sample(institutions.ESCALATION_PARTS, 3)
    cats = frozenset(str(c) for c in [C.INSTITUTION_RISK_ESCALATION, *parts])
    target = placer.place(_lenders(2.0)(sim), t0, 3 * DAY, cats, lead=DAY, exclusive=True)
    if target is None:
        return False
    draft = sim.draft(C.INSTITUTION_RISK_ESCALATION, "institution")
    institutions.institution_risk_escalation(sim, target, t0, rng, draft, parts)
    return True


def _regional(sim: Sim, placer: _Placer, index: int, t0: int, rng: random.Random) -> bool:
    planner = placer.planner
    by_region: dict[str, list[LenderBook | GuarantorBook]] = {}
    for book in _lenders(2.0)(sim):
        by_region.setdefault(book.profile.inst.region_code, []).append(book)
    for gbook in _guarantors(sim):
        by_region.setdefault(gbook.profile.inst.region_code, []).append(gbook)
    regions = sorted(r for r, members in by_region.items() if len(members) >= 3)
    rng.shuffle(regions)
    span = 4 * DAY
    for region in regions:
        if not planner.region_free(region, t0, t0 + span):
            continue
        members = list(by_region[region])
        rng.shuffle(members)
        chosen = []
        for member in members:
            inst = member.profile.inst
            cat = C.DELINQUENCY_SPIKE if isinstance(member, LenderBook) else C.COMPENSATION_SPIKE
            if planner.free([inst], t0, t0 + span, frozenset({str(cat)}), exclusive=True):
                chosen.append((member, cat))
            if len(chosen) == 3:
                break
        if len(chosen) < 3:
            continue
        for member, cat in chosen:
            planner.book(
                [member.profile.inst], t0, t0 + span, frozenset({str(cat)}), exclusive=True
            )
        planner.book([], t0, t0 + span, frozenset(), cluster_region=region)
        draft = sim.draft(C.REGIONAL_CLUSTER, "region")
        institutions.regional_cluster(sim, [m for m, _ in chosen], t0, rng, draft)
        return True
    return False


_SPECIAL: dict[Category, Callable[[Sim, _Placer, int, int, random.Random], bool]] = {
    C.MULTI_LENDER_BORROWING: _multi_lender,
    C.GUARANTEE_CONCENTRATION: _guarantee_concentration,
    C.GUARANTEE_CONTAGION: _guarantee_contagion,
    C.WASH_TRADE: _wash_trade,
    C.UNLICENSED_ACTIVITY: _unlicensed,
    C.INSTITUTION_RISK_ESCALATION: _escalation,
    C.REGIONAL_CLUSTER: _regional,
}
