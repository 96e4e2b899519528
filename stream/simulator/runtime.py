"""The discrete-event core: a time-ordered agenda, the book, and the record builders.

Every action runs at its simulated second and emits records stamped with it, so the history
comes out in event-time order by construction. Scenarios and the background share this core.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models.categories import Category, Feed
from models.history import HistoryRecord
from stream.simulator.book import (
    GuaranteeState,
    GuarantorBook,
    LenderBook,
    LoanState,
    ProductBook,
    yuan,
)
from stream.simulator.clock import Clock
from stream.simulator.world import Account, InstitutionState, World

if TYPE_CHECKING:
    from stream.simulator.guaranteeing import EnterpriseNetwork

Action = Callable[[], object]


@dataclass(slots=True, eq=False)
class LabelDraft:
    """A scenario's label while it runs: ids and the window fill in as its events are emitted."""

    scenario_id: str
    category: Category
    entity_type: str
    entity_id: str = ""
    institution_id: str = ""
    start: int | None = None
    end: int | None = None
    event_ids: list[str] = field(default_factory=list)
    parts: list[LabelDraft] = field(default_factory=list)

    breach: int | None = None
    persistent: bool = False

    def add(self, event_id: str, t: int, *, window: bool = True, breach: bool = False) -> None:
        """Record an injected event; ``breach`` marks the one that makes the scenario true
        (a limit crossed, a chain or ring completed): the label's window starts there."""
        self.event_ids.append(event_id)
        if window:
            self.start = t if self.start is None else min(self.start, t)
            self.end = t if self.end is None else max(self.end, t)
        if breach and self.breach is None:
            self.breach = t

    def span(self) -> tuple[int | None, int | None]:
        """The label window: from the breach (or the first event) to the last event. A
        composite scenario starts when its last part starts and ends when its last part
        ends (that is when three categories or institutions are there together)."""
        if self.parts:
            spans = [part.span() for part in self.parts]
            starts = [s for s, _ in spans if s is not None]
            ends = [e for _, e in spans if e is not None]
            if len(starts) < len(spans):
                return None, None
            return max(starts), max(ends)
        start = self.breach if self.breach is not None else self.start
        return start, self.end


class Sim:
    """Agenda, book and emitters of one run."""

    def __init__(self, world: World, clock: Clock, seed: int) -> None:
        self.world = world
        self.clock = clock
        self.seed = seed
        self.now = 0
        #: When live activity starts: nothing but the re-reported book comes before it.
        self.live = 0
        self.out: list[HistoryRecord] = []
        self.registry: dict[str, InstitutionState] = world.by_id()
        self.lenders: dict[str, LenderBook] = {
            p.inst.institution_id: LenderBook(p) for p in world.lenders
        }
        self.guarantors: dict[str, GuarantorBook] = {
            p.inst.institution_id: GuarantorBook(p) for p in world.guarantors
        }
        self.products: dict[str, ProductBook] = {
            p.product_id: ProductBook(p, p.anchor_price) for p in world.products
        }
        self.drafts: list[LabelDraft] = []
        self.network: EnterpriseNetwork | None = None
        self._agenda: list[tuple[int, int, Action]] = []
        self._seq = 0
        self._event_n: dict[str, int] = {}

    # agenda -----------------------------------------------------------------------------------
    def at(self, t: int, action: Action) -> None:
        """Run ``action`` at simulated second ``t`` (never before now)."""
        self._seq += 1
        heapq.heappush(self._agenda, (max(int(t), self.now), self._seq, action))

    def pop(self) -> tuple[int, Action] | None:
        if not self._agenda:
            return None
        t, _, action = heapq.heappop(self._agenda)
        return t, action

    # ids --------------------------------------------------------------------------------------
    def event_id(self, prefix: str) -> str:
        n = self._event_n.get(prefix, 0) + 1
        self._event_n[prefix] = n
        return f"{prefix}-s{self.seed}-{n:07d}"

    def new_id(self, kind: str, width: int = 7) -> str:
        return f"{kind}{self.world.ids.next(kind):0{width}d}"

    def draft(self, category: Category, entity_type: str) -> LabelDraft:
        """A new label draft; its injector fills in the ids as it learns them."""
        n = len(self.drafts) + 1
        draft = LabelDraft(f"s-{self.seed}-{n:05d}", category, entity_type)
        self.drafts.append(draft)
        return draft

    # emitters ---------------------------------------------------------------------------------
    def emit(self, topic: Feed, key: str, value: dict[str, Any]) -> str:
        self.out.append(HistoryRecord(str(topic), key, value))
        return str(value["event_id"])

    def emit_institution(self, inst: InstitutionState) -> str:
        value: dict[str, Any] = {
            "event_id": self.event_id("ins"),
            "event_time": self.clock.stamp(self.now),
            "institution_id": inst.institution_id,
            "name": inst.name,
            "institution_type": inst.institution_type,
            "region_code": inst.region_code,
            "registered_capital": inst.registered_capital,
            "net_assets": inst.net_assets,
            "license_status": inst.license_status,
        }
        if inst.institution_type == "guarantee":
            value["serves_small_micro"] = inst.serves_small_micro
        return self.emit(Feed.INSTITUTIONS, inst.institution_id, value)

    def emit_loan(
        self,
        loan: LoanState,
        event_type: str,
        *,
        payment_c: int | None = None,
        dpd: int = 0,
        institution_id: str | None = None,
    ) -> str:
        lender = institution_id or loan.lender.inst.institution_id
        b = loan.borrower
        value: dict[str, Any] = {
            "event_id": self.event_id("ln"),
            "event_type": event_type,
            "event_time": self.clock.stamp(self.now),
            "institution_id": lender,
            "loan_id": loan.loan_id,
            "borrower_id": b.borrower_id,
            "borrower_type": b.borrower_type,
            "borrower_region_code": b.region_code,
            "related_party": loan.related,
            "principal": yuan(loan.principal_c),
            "outstanding": yuan(loan.outstanding_c),
            "annual_rate": loan.rate,
            "term_days": loan.term_days,
            "days_past_due": dpd,
            "collateral": loan.collateral,
        }
        if b.industry_code is not None:
            value["industry_code"] = b.industry_code
        if payment_c is not None:
            value["payment_amount"] = yuan(payment_c)
        if loan.previous_loan_id is not None and event_type == "extended":
            value["previous_loan_id"] = loan.previous_loan_id
        return self.emit(Feed.LOANS, lender, value)

    def emit_guarantee(
        self,
        g: GuaranteeState,
        event_type: str,
        *,
        compensation_c: int | None = None,
        recovered_c: int | None = None,
    ) -> str:
        value: dict[str, Any] = {
            "event_id": self.event_id("gt"),
            "event_type": event_type,
            "event_time": self.clock.stamp(self.now),
            "institution_id": g.institution_id,
            "guarantee_id": g.guarantee_id,
            "guarantor_id": g.guarantor_id,
            "guarantor_type": g.guarantor_type,
            "debtor_id": g.debtor.borrower_id,
            "creditor_id": g.creditor_id,
            "amount": yuan(g.amount_c),
            "outstanding": yuan(g.outstanding_c),
            "debtor_related_party": g.related,
            "guarantee_type": "loan",
        }
        if g.fee_rate is not None:
            value["fee_rate"] = g.fee_rate
        if compensation_c is not None:
            value["compensation_amount"] = yuan(compensation_c)
        if recovered_c is not None:
            value["recovered_amount"] = yuan(recovered_c)
        return self.emit(Feed.GUARANTEES, g.guarantor_id, value)

    def emit_trade(
        self,
        book: ProductBook,
        buyer: Account,
        seller: Account,
        price: float,
        quantity: float,
        *,
        mode: str = "negotiated",
        venue_id: str | None = None,
    ) -> str:
        product = book.product
        value: dict[str, Any] = {
            "event_id": self.event_id("tr"),
            "event_time": self.clock.stamp(self.now),
            "venue_id": venue_id or product.venue.institution_id,
            "product_id": product.product_id,
            "product_type": product.product_type,
            "trade_id": self.new_id("T", 9),
            "buyer_account": buyer.account_id,
            "seller_account": seller.account_id,
            "buyer_owner_id": buyer.owner_id,
            "seller_owner_id": seller.owner_id,
            "price": round(price, 2),
            "quantity": quantity,
            "trading_mode": mode,
        }
        book.apply(buyer.owner_id, seller.owner_id, quantity)
        book.recent.add(self.now, quantity)
        return self.emit(Feed.TRADES, product.product_id, value)

    # book keeping -----------------------------------------------------------------------------
    def set_outstanding(self, loan: LoanState, outstanding_c: int) -> None:
        """Change a loan's balance and the lender's exposures with it."""
        book = self.lenders.get(loan.lender.inst.institution_id)
        delta = outstanding_c - loan.outstanding_c
        loan.outstanding_c = outstanding_c
        if book is None:
            return
        key = loan.borrower.borrower_id
        book.exposure_c[key] = book.exposure_c.get(key, 0) + delta
        if loan.related:
            book.related_c += delta

    def set_guarantee_outstanding(self, g: GuaranteeState, outstanding_c: int) -> None:
        delta = outstanding_c - g.outstanding_c
        g.outstanding_c = outstanding_c
        book = self.guarantors.get(g.guarantor_id)
        if book is None:
            return
        book.outstanding_c += delta
        key = g.debtor.borrower_id
        book.exposure_c[key] = book.exposure_c.get(key, 0) + delta
        if g.related:
            book.related_c += delta
