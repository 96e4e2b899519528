"""Tiny event factories for the statistical detector tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from models.events import Guarantee, Loan, Trade

T0 = datetime(2026, 1, 5, tzinfo=UTC)
_ids = count()


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def loan(hours: float, event_type: str = "originated", **kw: Any) -> Loan:
    n = next(_ids)
    fields: dict[str, Any] = {
        "event_id": f"ln-{n}",
        "event_type": event_type,
        "event_time": at(hours),
        "institution_id": "FJ-MC-0001",
        "loan_id": f"L{n}",
        "borrower_id": f"B{n}",
        "borrower_type": "individual",
        "principal": 100_000.0,
        "outstanding": 100_000.0,
        "annual_rate": 0.1,
        "term_days": 180,
        "days_past_due": 30 if event_type in ("overdue", "default") else 0,
    }
    fields.update(kw)
    return Loan(**fields)


def guarantee(hours: float, event_type: str = "issued", **kw: Any) -> Guarantee:
    n = next(_ids)
    fields: dict[str, Any] = {
        "event_id": f"gt-{n}",
        "event_type": event_type,
        "event_time": at(hours),
        "institution_id": "FJ-GT-0001",
        "guarantee_id": f"G{n}",
        "guarantor_id": "FJ-GT-0001",
        "guarantor_type": "guarantee_company",
        "debtor_id": f"D{n}",
        "creditor_id": "FJ-LB-0001",
        "amount": 1_000_000.0,
        "outstanding": 0.0 if event_type == "compensated" else 1_000_000.0,
    }
    fields.update(kw)
    return Guarantee(**fields)


def trade(hours: float, **kw: Any) -> Trade:
    n = next(_ids)
    fields: dict[str, Any] = {
        "event_id": f"tr-{n}",
        "event_time": at(hours),
        "venue_id": "FJ-TV-0001",
        "product_id": "HX-EQ-1",
        "product_type": "equity",
        "trade_id": f"T{n}",
        "buyer_account": f"A{n % 40}",
        "seller_account": f"A{(n + 7) % 40}",
        "buyer_owner_id": f"O{n % 40}",
        "seller_owner_id": f"O{(n + 7) % 40}",
        "price": 10.0,
        "quantity": 100.0,
        "trading_mode": "negotiated",
    }
    fields.update(kw)
    return Trade(**fields)
