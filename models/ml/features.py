"""The one feature function of the ML models: live detectors, training, scoring and backtests
all call ``loan_features`` and ``advance`` on the same borrower state, so there is no
training/serving skew.

A loan event is described by itself, by the lender's latest registry record and by the
borrower's history across every institution (the detectors run in ``Partition.BORROWER``).
The borrower state is a small JSON-able dict updated in O(1) per event; its features are read
*before* the event is applied, so a label can never leak into its own features.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from models.categories import FUJIAN_PREFECTURES
from models.events import NEW_LOAN_BUSINESS, FeedEvent, Institution, Loan
from models.state import DictRegistry, InstitutionRegistry

#: Bump when the state layout changes; older states are read as empty.
STATE_VERSION = 1
#: Bounds that keep a borrower's state small however long its history.
MAX_OPEN_LOANS = 32
MAX_LENDERS = 16
MAX_RECENT = 32
RECENT_DAYS = 30.0
_DAY = 86_400.0

#: A typical all-in annual rate per lender type: the reference ``rate_vs_type`` is measured
#: against (what each sector charges ordinary clients; the 12 % cap sits above all of them).
TYPICAL_RATE: dict[str, float] = {
    "local_bank": 0.050,
    "microcredit": 0.100,
    "pawn": 0.110,
    "leasing": 0.080,
    "private_lending": 0.110,
}
OTHER_TYPICAL_RATE = 0.090
LENDER_TYPES = ("microcredit", "pawn", "leasing", "local_bank", "private_lending")
COLLATERALS = ("real_estate", "vehicle", "equity", "movable", "guarantee", "other")
#: GB/T 4754 sections A–T: sector risk differs (property, construction, leasing vs retail).
INDUSTRY_SECTIONS = tuple("ABCDEFGHIJKLMNOPQRST")
#: Fujian prefecture codes (domain.md): regional economies default differently.
REGION_CODES = FUJIAN_PREFECTURES

FEATURE_NAMES: tuple[str, ...] = (
    # the loan event itself
    "log_principal",
    "annual_rate",
    "rate_vs_type",
    "term_years",
    "dpd_months",
    "utilisation",
    "is_extension",
    "is_rollover",
    "related_party",
    "borrower_enterprise",
    "has_guarantee",
    *(f"collateral_{c}" for c in COLLATERALS),
    *(f"industry_{c}" for c in INDUSTRY_SECTIONS),
    "industry_missing",
    *(f"region_{c}" for c in REGION_CODES),
    "region_missing",
    # the borrower's history across institutions, before this event
    "prior_loans",
    "prior_lenders",
    "lenders_30d",
    "new_loans_30d",
    "prior_overdues",
    "prior_defaults",
    "prior_max_dpd_months",
    "prior_extensions",
    "log_total_outstanding",
    "outstanding_elsewhere_share",
    "log_days_known",
    "amount_vs_profile",
    "rate_vs_profile",
    # the lender, from the institution registry
    *(f"lender_{t}" for t in LENDER_TYPES),
    "lender_unknown",
    "lender_not_active",
    "log_lender_net_assets",
    "loan_to_net_assets",
    "borrower_exposure_to_net_assets",
)
N_FEATURES = len(FEATURE_NAMES)
FEATURE_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def empty_state() -> dict[str, Any]:
    """A borrower never seen before."""
    return {
        "v": STATE_VERSION,
        "first": None,
        "new": 0,
        "overdue": 0,
        "default": 0,
        "ext": 0,
        "max_dpd": 0,
        "bal": {},
        "lenders": {},
        "recent": [],
        "sum_log_amt": 0.0,
        "sum_rate": 0.0,
        "sum_term": 0.0,
    }


def _usable(state: dict[str, Any] | None) -> dict[str, Any]:
    if not state or state.get("v") != STATE_VERSION:
        return empty_state()
    return state


def _base_capital(record: Institution) -> float:
    """Limits of pawn shops are set on registered capital, of the others on net assets."""
    if record.institution_type == "pawn":
        return record.registered_capital
    return record.net_assets


def loan_features(
    event: Loan, state: dict[str, Any] | None, registry: InstitutionRegistry
) -> np.ndarray:
    """The feature row (``FEATURE_NAMES`` order) of ``event`` given the borrower's prior state."""
    st = _usable(state)
    now = event.event_time.timestamp()
    row = np.zeros(N_FEATURES, dtype=np.float64)
    put = row.__setitem__
    ix = FEATURE_INDEX

    record = registry.get(event.institution_id)
    lender_type = record.institution_type if record is not None else None
    put(ix["log_principal"], math.log1p(event.principal))
    put(ix["annual_rate"], event.annual_rate)
    typical = TYPICAL_RATE.get(lender_type or "", OTHER_TYPICAL_RATE)
    put(ix["rate_vs_type"], event.annual_rate - typical)
    put(ix["term_years"], event.term_days / 365.0)
    put(ix["dpd_months"], event.days_past_due / 30.0)
    put(ix["utilisation"], event.outstanding / event.principal if event.principal > 0 else 0.0)
    put(ix["is_extension"], float(event.event_type == "extended"))
    put(ix["is_rollover"], float(event.previous_loan_id is not None))
    put(ix["related_party"], float(event.related_party))
    put(ix["borrower_enterprise"], float(event.borrower_type == "enterprise"))
    put(ix["has_guarantee"], float(event.guarantee_id is not None))
    if event.collateral in COLLATERALS:
        put(ix[f"collateral_{event.collateral}"], 1.0)
    if event.industry_code in INDUSTRY_SECTIONS:
        put(ix[f"industry_{event.industry_code}"], 1.0)
    put(ix["industry_missing"], float(event.industry_code is None))
    if event.borrower_region_code in REGION_CODES:
        put(ix[f"region_{event.borrower_region_code}"], 1.0)
    else:
        put(ix["region_missing"], 1.0)

    balances: dict[str, list[Any]] = st["bal"]
    others = {k: v for k, v in balances.items() if k != event.loan_id}
    total = sum(float(v[0]) for v in others.values())
    at_lender = sum(float(v[0]) for v in others.values() if v[1] == event.institution_id)
    lenders: dict[str, float] = st["lenders"]
    put(ix["prior_loans"], math.log1p(st["new"]))
    put(ix["prior_lenders"], float(len(lenders)))
    put(ix["lenders_30d"], float(sum(1 for t in lenders.values() if now - t <= 30 * _DAY)))
    put(ix["new_loans_30d"], float(sum(1 for t in st["recent"] if now - t <= 30 * _DAY)))
    put(ix["prior_overdues"], float(st["overdue"]))
    put(ix["prior_defaults"], float(st["default"]))
    put(ix["prior_max_dpd_months"], st["max_dpd"] / 30.0)
    put(ix["prior_extensions"], float(st["ext"]))
    put(ix["log_total_outstanding"], math.log1p(total))
    put(ix["outstanding_elsewhere_share"], (total - at_lender) / total if total > 0 else 0.0)
    known_days = (now - st["first"]) / _DAY if st["first"] is not None else 0.0
    put(ix["log_days_known"], math.log1p(max(known_days, 0.0)))
    if st["new"] > 0:
        put(ix["amount_vs_profile"], math.log1p(event.principal) - st["sum_log_amt"] / st["new"])
        put(ix["rate_vs_profile"], event.annual_rate - st["sum_rate"] / st["new"])

    if record is None:
        put(ix["lender_unknown"], 1.0)
        put(ix["lender_not_active"], 1.0)
        return row
    if record.institution_type in LENDER_TYPES:
        put(ix[f"lender_{record.institution_type}"], 1.0)
    put(ix["lender_not_active"], float(record.license_status != "active"))
    base = _base_capital(record)
    put(ix["log_lender_net_assets"], math.log1p(max(base, 0.0)))
    if base > 0:
        put(ix["loan_to_net_assets"], event.principal / base)
        put(ix["borrower_exposure_to_net_assets"], (at_lender + event.outstanding) / base)
    return row


def advance(state: dict[str, Any] | None, event: Loan) -> dict[str, Any]:
    """The borrower state after ``event``; never mutates ``state`` (the store may share it)."""
    old = _usable(state)
    now = event.event_time.timestamp()
    st = dict(old)
    st["bal"] = dict(old["bal"])
    st["lenders"] = dict(old["lenders"])
    st["recent"] = [t for t in old["recent"] if now - t <= RECENT_DAYS * _DAY]
    if st["first"] is None:
        st["first"] = now

    if event.outstanding > 0:
        st["bal"].pop(event.loan_id, None)  # re-insert: the dict keeps the newest last
        st["bal"][event.loan_id] = [event.outstanding, event.institution_id]
        while len(st["bal"]) > MAX_OPEN_LOANS:
            st["bal"].pop(next(iter(st["bal"])))
    else:
        st["bal"].pop(event.loan_id, None)

    if event.event_type in NEW_LOAN_BUSINESS:
        st["new"] = old["new"] + 1
        st["sum_log_amt"] = old["sum_log_amt"] + math.log1p(event.principal)
        st["sum_rate"] = old["sum_rate"] + event.annual_rate
        st["sum_term"] = old["sum_term"] + event.term_days
        st["lenders"].pop(event.institution_id, None)
        st["lenders"][event.institution_id] = now
        while len(st["lenders"]) > MAX_LENDERS:
            st["lenders"].pop(next(iter(st["lenders"])))
        st["recent"] = [*st["recent"], now][-MAX_RECENT:]
    if event.event_type == "extended":
        st["ext"] = old["ext"] + 1
    elif event.event_type == "overdue":
        st["overdue"] = old["overdue"] + 1
    elif event.event_type in ("default", "written_off"):
        st["default"] = old["default"] + 1
    st["max_dpd"] = max(old["max_dpd"], event.days_past_due)
    return st


def profile(state: dict[str, Any] | None) -> dict[str, Any]:
    """The borrower's normal profile, for the evidence of an ML finding."""
    st = _usable(state)
    n = st["new"]
    return {
        "loans_seen": n,
        "lenders": len(st["lenders"]),
        "mean_principal": round(math.expm1(st["sum_log_amt"] / n), 2) if n else None,
        "mean_annual_rate": round(st["sum_rate"] / n, 4) if n else None,
        "mean_term_days": round(st["sum_term"] / n, 1) if n else None,
        "overdues": st["overdue"],
        "defaults": st["default"],
        "max_days_past_due": st["max_dpd"],
        "open_loans": len(st["bal"]),
        "total_outstanding": round(sum(float(v[0]) for v in st["bal"].values()), 2),
    }


def history_features(events: Iterable[FeedEvent]) -> Iterator[tuple[Loan, np.ndarray]]:
    """Offline twin of the detectors: each loan event of a history with its feature row.

    Walks events in order with a registry and per-borrower states, calling exactly the
    functions the live detectors call.
    """
    registry = DictRegistry()
    states: dict[str, dict[str, Any]] = {}
    for event in events:
        if isinstance(event, Institution):
            registry.put(event)
        elif isinstance(event, Loan):
            state = states.get(event.borrower_id)
            yield event, loan_features(event, state, registry)
            states[event.borrower_id] = advance(state, event)
