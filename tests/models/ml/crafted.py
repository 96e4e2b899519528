"""A small hand-crafted loan history with a known risk signal, for fast ML tests.

Each borrower has a latent risk: risky borrowers pay more, borrow from more lenders, fall
overdue and later default. Records are contract-valid history lines (checked in the tests).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from models.history import HistoryRecord, write_history

CST = timezone(timedelta(hours=8))
START = datetime(2026, 1, 1, tzinfo=CST)
LENDERS = (
    ("FJ-MC-0001", "microcredit", 0.10),
    ("FJ-MC-0002", "microcredit", 0.10),
    ("FJ-PW-0001", "pawn", 0.11),
    ("FJ-LB-0001", "local_bank", 0.05),
    ("FJ-LS-0001", "leasing", 0.08),
    ("FJ-PL-0001", "private_lending", 0.11),
)


def _institution(inst_id: str, kind: str) -> HistoryRecord:
    value = {
        "event_id": f"inst-{inst_id}-v1",
        "event_time": START.isoformat(),
        "institution_id": inst_id,
        "name": f"{kind} {inst_id}",
        "institution_type": kind,
        "region_code": "350500",
        "registered_capital": 200_000_000,
        "net_assets": 250_000_000,
        "license_status": "active",
    }
    return HistoryRecord("institutions", inst_id, value)


def loan_value(
    *,
    event_id: str,
    event_type: str,
    when: datetime,
    lender: str,
    loan_id: str,
    borrower: str,
    principal: float,
    outstanding: float,
    rate: float,
    term_days: int = 180,
    dpd: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": event_type,
        "event_time": when.isoformat(),
        "institution_id": lender,
        "loan_id": loan_id,
        "borrower_id": borrower,
        "borrower_type": "enterprise",
        "principal": round(principal, 2),
        "outstanding": round(outstanding, 2),
        "annual_rate": round(rate, 4),
        "term_days": term_days,
        "days_past_due": dpd,
        **extra,
    }


def _loan_events(
    rng: np.random.Generator, loan: dict[str, Any], risk: float, when: datetime
) -> list[tuple[str, datetime, float, int, dict[str, Any]]]:
    """(event_type, time, outstanding, days past due, extra fields) of one loan's life."""
    principal = loan["principal"]
    life: list[tuple[str, datetime, float, int, dict[str, Any]]] = [
        ("originated", when, principal, 0, {})
    ]
    if rng.random() < risk * 1.5:
        late = when + timedelta(days=float(rng.uniform(10, 30)))
        life.append(("overdue", late, principal, 30, {}))
        if rng.random() < 0.6:
            life.append(("default", late + timedelta(days=20), principal, 50, {}))
    else:
        end = when + timedelta(days=loan["term_days"])
        life.append(("repayment", end, 0.0, 0, {"payment_amount": round(principal, 2)}))
    return life


def crafted_history(
    n_borrowers: int = 300, *, seed: int = 0, days: int = 360
) -> list[HistoryRecord]:
    """Institutions first, then every loan event in time order."""
    rng = np.random.default_rng(seed)
    horizon = START + timedelta(days=days)
    events: list[tuple[datetime, HistoryRecord]] = []
    for b in range(n_borrowers):
        borrower = f"91350500B{b:08d}"
        risk = float(rng.beta(1.0, 4.0))
        n_loans = 1 + int(rng.poisson(0.5 + 4 * risk))
        when = START + timedelta(days=float(rng.uniform(0, days * 0.6)))
        for j, li in enumerate(rng.choice(len(LENDERS), size=n_loans, replace=True)):
            lender, _, typical = LENDERS[li]
            loan = {
                "lender": lender,
                "loan_id": f"L{b:05d}-{j}",
                "borrower": borrower,
                "principal": float(np.exp(rng.normal(13.0, 0.6))),
                "rate": min(0.24, max(0.02, typical + 0.06 * risk + rng.normal(0, 0.005))),
                "term_days": int(rng.choice([90, 180, 360])),
            }
            collateral = "real_estate" if rng.random() > risk * 2 else "none"
            life = _loan_events(rng, loan, risk, when)
            for k, (kind, at, outstanding, dpd, extra) in enumerate(life):
                if at > horizon:
                    continue
                value = loan_value(
                    event_id=f"evt-{loan['loan_id']}-{k}",
                    event_type=kind,
                    when=at,
                    outstanding=outstanding,
                    dpd=dpd,
                    collateral=collateral,
                    **loan,
                    **extra,
                )
                events.append((at, HistoryRecord("loans", lender, value)))
            # the next loan follows this one's fate, so a history predicts the next default
            when = min(life[1][1], when + timedelta(days=60)) + timedelta(
                days=float(rng.uniform(1, 10))
            )
    events.sort(key=lambda item: item[0])
    return [_institution(i, k) for i, k, _ in LENDERS] + [r for _, r in events]


def write_crafted(path: Path, n_borrowers: int = 300, *, seed: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        write_history(fh, crafted_history(n_borrowers, seed=seed))
    return path
