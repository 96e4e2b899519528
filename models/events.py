"""Typed feed events: frozen, slotted dataclasses that mirror ``contracts/*.schema.json``.

``parse_event`` turns an already contract-valid JSON object into one of them and refuses values
that the schema allows but that cannot be true (a new loan already past due, a balance above
what was ever lent), so detectors never see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.categories import Feed
from models.errors import InvalidEvent


@dataclass(frozen=True, slots=True)
class Institution:
    event_id: str
    event_time: datetime
    institution_id: str
    name: str
    institution_type: str
    region_code: str
    registered_capital: float
    net_assets: float
    license_status: str
    serves_small_micro: bool = False

    feed = Feed.INSTITUTIONS

    @property
    def key(self) -> str:
        return self.institution_id


@dataclass(frozen=True, slots=True)
class Loan:
    event_id: str
    event_type: str
    event_time: datetime
    institution_id: str
    loan_id: str
    borrower_id: str
    borrower_type: str
    principal: float
    outstanding: float
    annual_rate: float
    term_days: int
    days_past_due: int
    borrower_region_code: str | None = None
    industry_code: str | None = None
    related_party: bool = False
    payment_amount: float | None = None
    collateral: str = "none"
    guarantee_id: str | None = None
    previous_loan_id: str | None = None

    feed = Feed.LOANS

    @property
    def key(self) -> str:
        return self.institution_id


@dataclass(frozen=True, slots=True)
class Guarantee:
    event_id: str
    event_type: str
    event_time: datetime
    institution_id: str
    guarantee_id: str
    guarantor_id: str
    guarantor_type: str
    debtor_id: str
    creditor_id: str
    amount: float
    outstanding: float
    fee_rate: float | None = None
    compensation_amount: float | None = None
    counter_guarantor_id: str | None = None
    debtor_related_party: bool = False
    recovered_amount: float | None = None
    guarantee_type: str = "loan"

    feed = Feed.GUARANTEES

    @property
    def key(self) -> str:
        return self.guarantor_id


@dataclass(frozen=True, slots=True)
class Trade:
    event_id: str
    event_time: datetime
    venue_id: str
    product_id: str
    product_type: str
    trade_id: str
    buyer_account: str
    seller_account: str
    buyer_owner_id: str
    seller_owner_id: str
    price: float
    quantity: float
    trading_mode: str

    feed = Feed.TRADES

    @property
    def key(self) -> str:
        return self.product_id

    @property
    def institution_id(self) -> str:
        """The venue is the supervised institution behind a trade."""
        return self.venue_id


FeedEvent = Loan | Guarantee | Trade | Institution

EVENT_TYPES: dict[Feed, type[Loan] | type[Guarantee] | type[Trade] | type[Institution]] = {
    Feed.LOANS: Loan,
    Feed.GUARANTEES: Guarantee,
    Feed.TRADES: Trade,
    Feed.INSTITUTIONS: Institution,
}

#: Loan events that start new business; collecting an existing book is lawful for anyone.
NEW_LOAN_BUSINESS = frozenset({"originated", "extended"})


def parse_time(value: str) -> datetime:
    """RFC 3339 with offset -> aware datetime; a naive timestamp is refused."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise InvalidEvent(f"event_time {value!r} has no UTC offset")
    return moment


def parse_event(feed: Feed | str, doc: dict[str, Any]) -> FeedEvent:
    """Build the typed event of ``feed`` from a contract-valid document.

    Raises ``InvalidEvent`` with a reason naming the field for values no real event can have.
    """
    cls = EVENT_TYPES[Feed(feed)]
    fields = dict(doc)
    fields["event_time"] = parse_time(doc["event_time"])
    event = cls(**fields)
    _check_possible(event)
    return event


def _check_possible(event: FeedEvent) -> None:
    if isinstance(event, Loan):
        if event.event_type == "originated" and event.days_past_due > 0:
            raise InvalidEvent(
                f"loan {event.loan_id}: originated with days_past_due={event.days_past_due}"
            )
        if event.event_type == "originated" and event.outstanding > event.principal * 1.0001:
            raise InvalidEvent(
                f"loan {event.loan_id}: outstanding {event.outstanding}"
                f" above principal {event.principal}"
            )
    elif isinstance(event, Guarantee):
        if event.event_type == "issued" and event.outstanding > event.amount * 1.0001:
            raise InvalidEvent(
                f"guarantee {event.guarantee_id}: outstanding {event.outstanding}"
                f" above amount {event.amount}"
            )
        if event.guarantor_id == event.debtor_id:
            raise InvalidEvent(f"guarantee {event.guarantee_id}: guarantor is its own debtor")
