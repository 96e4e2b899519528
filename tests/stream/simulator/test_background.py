"""The background is clean: no rule of domain.md breaks outside a labelled scenario.

An independent referee (``referee.py``) replays the history against the rules; each breach it
finds must be a labelled scenario, and the background alone must break nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from models.categories import Category
from tests.stream.simulator.conftest import History
from tests.stream.simulator.referee import referee

C = Category
#: Rules the referee checks, and whether it reports an entity id or an event id.
BY_ENTITY = [
    C.BORROWER_CONCENTRATION,
    C.RELATED_PARTY_LENDING,
    C.MULTI_LENDER_BORROWING,
    C.GUARANTEE_LEVERAGE,
    C.GUARANTEE_CONCENTRATION,
    C.HOLDER_LIMIT,
    C.T_PLUS_5_VIOLATION,
    C.UNLICENSED_ACTIVITY,
]
BY_EVENT = [C.EVERGREENING, C.GUARANTEE_CIRCLE, C.PROHIBITED_TRADING_MODE, C.WASH_TRADE]


def test_background_alone_breaks_no_rule(background: History) -> None:
    found = referee(background.records).found
    assert {category: keys for category, keys in found.items() if keys} == {}


@pytest.mark.parametrize("category", BY_ENTITY)
def test_entity_breaches_are_labelled_scenarios(history: History, category: Category) -> None:
    found = referee(history.records).found[str(category)]
    labelled = {x.entity_id for x in history.labels if x.category == category}
    assert found, f"the {category} scenarios break no rule"
    assert found <= labelled


@pytest.mark.parametrize("category", BY_EVENT)
def test_event_breaches_are_labelled_scenarios(history: History, category: Category) -> None:
    found = referee(history.records).found[str(category)]
    labelled = {e for x in history.labels if x.category == category for e in x.event_ids}
    assert found
    assert found <= labelled


def test_rates_above_the_cap_are_only_usurious_scenarios(history: History) -> None:
    found = referee(history.records).found[str(C.USURIOUS_RATE)]
    scenario_lenders = {
        x.institution_id
        for x in history.labels
        if x.category in (C.USURIOUS_RATE, C.INSTITUTION_RISK_ESCALATION)
    }
    assert found
    assert found <= scenario_lenders


def test_background_uses_a_rate_exactly_at_the_cap(background: History) -> None:
    rates = [r.value["annual_rate"] for r in background.records if r.topic == "loans"]
    assert max(rates) == 0.12


def _windows(background: History, topic: str, kinds: set[str], key: str) -> dict[str, int]:
    """The most events of ``kinds`` any entity has within 24 hours (live activity only)."""
    start = datetime.fromisoformat(background.records[0].value["event_time"])
    times: dict[str, list[datetime]] = defaultdict(list)
    for r in background.records:
        t = datetime.fromisoformat(r.value["event_time"])
        if (
            r.topic == topic
            and r.value.get("event_type") in kinds
            and t - start > timedelta(hours=6)
        ):
            times[str(r.value[key])].append(t)
    most: dict[str, int] = {}
    for entity, ts in times.items():
        j = 0
        best = 0
        for i, t in enumerate(ts):
            while ts[j] <= t - timedelta(days=1):
                j += 1
            best = max(best, i - j + 1)
        most[entity] = best
    return most


def test_background_delinquency_stays_at_three_a_day_per_lender(background: History) -> None:
    most = _windows(background, "loans", {"overdue", "default"}, "institution_id")
    assert most
    assert max(most.values()) <= 3


def test_background_compensates_at_most_once_a_day_per_company(background: History) -> None:
    most = _windows(background, "guarantees", {"compensated"}, "guarantor_id")
    assert most
    assert max(most.values()) == 1


def test_background_prices_stay_near_their_anchor(background: History) -> None:
    prices: dict[str, list[float]] = defaultdict(list)
    for r in background.records:
        if r.topic == "trades":
            prices[str(r.value["product_id"])].append(float(r.value["price"]))
    for series in prices.values():
        assert max(series) / min(series) < 1.10


def test_background_trades_only_on_trading_days(background: History) -> None:
    days = {
        datetime.fromisoformat(r.value["event_time"]).weekday()
        for r in background.records
        if r.topic == "trades"
    }
    assert days == {0, 1, 2, 3, 4}


def test_some_background_loans_go_overdue_and_default(background: History) -> None:
    kinds = {r.value.get("event_type") for r in background.records if r.topic == "loans"}
    assert {"overdue", "default", "repayment", "extended"} <= kinds


def test_riskier_background_loans_default_more_often(background: History) -> None:
    """What a default model learns: rate and no collateral raise the default rate."""
    loans: dict[str, dict[str, object]] = {}
    defaulted: set[str] = set()
    for r in background.records:
        if r.topic != "loans":
            continue
        if r.value["event_type"] == "originated":
            loans[str(r.value["loan_id"])] = r.value
        elif r.value["event_type"] in ("overdue", "default"):
            defaulted.add(str(r.value["loan_id"]))

    def risky(v: dict[str, object]) -> bool:
        return float(v["annual_rate"]) > 0.1 and v["collateral"] == "none"

    def safe(v: dict[str, object]) -> bool:
        return float(v["annual_rate"]) < 0.08 and v["collateral"] == "real_estate"

    def bad_share(kind: Callable[[dict[str, object]], bool]) -> float:
        chosen = [lid for lid, v in loans.items() if kind(v)]
        assert len(chosen) > 100
        return sum(lid in defaulted for lid in chosen) / len(chosen)

    assert bad_share(risky) > 3 * bad_share(safe)
