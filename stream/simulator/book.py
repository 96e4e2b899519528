"""The live book of the simulated sector: loans, guarantees, venue positions and exposures.

Amounts are kept in integer cents so every reported figure has at most two decimals and a
balance never drifts above what was lent.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from stream.simulator.world import Account, Borrower, GuarantorProfile, LenderProfile, Product


class Rolling:
    """Events of the last 24 hours with their running total (for the background's caps)."""

    __slots__ = ("_items", "total")

    def __init__(self) -> None:
        self._items: deque[tuple[int, float]] = deque()
        self.total = 0.0

    def trim(self, now: int, span: int = 86_400) -> int:
        """Drop what is older than ``span``; returns how many events remain."""
        items = self._items
        while items and items[0][0] <= now - span:
            self.total -= items.popleft()[1]
        return len(items)

    def add(self, t: int, value: float) -> None:
        self._items.append((t, value))
        self.total += value


@dataclass(slots=True, eq=False)
class LoanState:
    loan_id: str
    lender: LenderProfile
    borrower: Borrower
    principal_c: int
    outstanding_c: int
    rate: float
    term_days: int
    collateral: str
    related: bool
    start_t: int
    risk: float
    n_payments: int
    paid: int = 0
    status: str = "current"  # current | overdue | default | closed
    due_t: int = 0
    chain: int = 0
    managed: bool = False
    previous_loan_id: str | None = None


@dataclass(slots=True, eq=False)
class GuaranteeState:
    guarantee_id: str
    institution_id: str
    guarantor_id: str
    guarantor_type: str
    debtor: Borrower
    creditor_id: str
    amount_c: int
    outstanding_c: int
    fee_rate: float | None
    related: bool
    firm: GuarantorProfile | None = None
    managed: bool = False
    status: str = "active"  # active | released | compensated


@dataclass(slots=True)
class LenderBook:
    """One lender's active loans and its exposures (what the concentration rules measure)."""

    profile: LenderProfile
    loans: list[LoanState] = field(default_factory=list)
    exposure_c: dict[str, int] = field(default_factory=dict)
    related_c: int = 0
    recent_orig: Rolling = field(default_factory=Rolling)
    recent_delinquent: deque[int] = field(default_factory=deque)
    mean_principal_c: float = 0.0


@dataclass(slots=True)
class GuarantorBook:
    profile: GuarantorProfile
    guarantees: list[GuaranteeState] = field(default_factory=list)
    outstanding_c: int = 0
    exposure_c: dict[str, int] = field(default_factory=dict)
    related_c: int = 0
    recent_issued: deque[int] = field(default_factory=deque)
    last_compensation: int = -(10**9)


@dataclass(slots=True)
class ProductBook:
    """A product's price, the positions built from its trades and its recent activity."""

    product: Product
    price: float
    positions: dict[str, float] = field(default_factory=dict)
    holders: int = 0
    recent: Rolling = field(default_factory=Rolling)
    mean_quantity: float = 0.0
    paused_until: int = 0
    extra_accounts: dict[str, Account] = field(default_factory=dict)

    def apply(self, buyer_owner: str, seller_owner: str, quantity: float) -> None:
        """Positions built from the venue's trades; holders have a positive one."""
        for owner, delta in ((buyer_owner, quantity), (seller_owner, -quantity)):
            before = self.positions.get(owner, 0.0)
            after = before + delta
            self.positions[owner] = after
            self.holders += (after > 1e-9) - (before > 1e-9)


def cents(amount: float) -> int:
    return round(amount * 100)


def yuan(amount_c: int) -> float:
    """Cents as a JSON number with at most two decimals (a whole number when it is one)."""
    if amount_c % 100 == 0:
        return amount_c // 100
    return amount_c / 100
