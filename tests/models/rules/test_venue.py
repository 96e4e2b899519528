"""prohibited_trading_mode, t_plus_5_violation, holder_limit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models import Category, Context, DetectorParams, DictRegistry, EntityType, Severity
from models.params import VenueParams
from models.rules import HolderLimit, ProhibitedTradingMode, TPlus5Violation
from models.rules.venue import PRUNE_EVERY, trading_day_index
from tests.models.rules._make import last, run, trade, when

HOLIDAY = DetectorParams(venue=VenueParams(holidays=(date(2026, 11, 4),)))  # a Wednesday


def _buy_then_sell(buy_time: str, sell_time: str, **sell_fields: object) -> list[object]:
    sell = {"event_time": sell_time, "seller_owner_id": "O1", "seller_account": "A1"}
    return [
        trade("T1", event_time=buy_time, buyer_owner_id="O1", buyer_account="A1"),
        trade("T2", **{**sell, **sell_fields}),
    ]


@pytest.mark.parametrize(
    "mode", ["auction", "continuous", "electronic_matching", "anonymous", "market_maker"]
)
def test_centralised_trading_modes_are_prohibited(mode: str) -> None:
    [finding] = last(ProhibitedTradingMode(), [trade(trading_mode=mode)])
    assert finding.category is Category.PROHIBITED_TRADING_MODE
    assert (finding.entity_type, finding.entity_id) == (EntityType.PRODUCT, "P1")
    assert finding.institution_id == "FJ-TV-0001"
    assert finding.evidence["trading_mode"] == mode
    assert finding.severity is Severity.HIGH


def test_negotiated_trading_is_lawful() -> None:
    assert last(ProhibitedTradingMode(), [trade()]) == []


def test_lawful_trade_after_a_prohibited_one_clears_once() -> None:
    events = [trade("T1", trading_mode="auction"), trade("T2"), trade("T3")]
    found = run(ProhibitedTradingMode(), events)
    assert [[f.cleared for f in fs] for fs in found] == [[False], [True], []]


def test_trading_days_skip_weekends_and_holidays() -> None:
    monday = when("2026-11-02T10:00:00+08:00")
    next_monday = when("2026-11-09T10:00:00+08:00")
    assert trading_day_index(next_monday) - trading_day_index(monday) == 5
    assert (
        trading_day_index(next_monday, HOLIDAY.venue.holidays)
        - trading_day_index(monday, HOLIDAY.venue.holidays)
        == 4
    )


def test_selling_exactly_five_trading_days_after_buying_is_lawful() -> None:
    events = _buy_then_sell("2026-11-06T10:00:00+08:00", "2026-11-13T10:00:00+08:00")
    assert run(TPlus5Violation(), events) == [[], []]


def test_selling_four_trading_days_after_buying_across_a_weekend_is_reported() -> None:
    events = _buy_then_sell("2026-11-06T10:00:00+08:00", "2026-11-12T15:00:00+08:00")
    [finding] = last(TPlus5Violation(), events)
    assert finding.category is Category.T_PLUS_5_VIOLATION
    assert (finding.entity_type, finding.entity_id) == (EntityType.OWNER, "O1")
    assert finding.institution_id == "FJ-TV-0001"
    assert finding.evidence["trading_days_apart"] == 4
    assert finding.evidence["limit"] == 5
    assert finding.evidence["side"] == "sell"
    assert finding.event_ids == ("ev-T1", "ev-T2")


def test_a_holiday_in_between_makes_a_week_too_short() -> None:
    events = _buy_then_sell("2026-11-02T10:00:00+08:00", "2026-11-09T10:00:00+08:00")
    assert run(TPlus5Violation(), events) == [[], []]
    assert len(last(TPlus5Violation(params=HOLIDAY), events)) == 1
    later = _buy_then_sell("2026-11-02T10:00:00+08:00", "2026-11-10T10:00:00+08:00")
    assert last(TPlus5Violation(params=HOLIDAY), later) == []


def test_trading_days_are_counted_in_local_time() -> None:
    # Friday 17:30 UTC is Saturday 01:30 in Fujian: the buy counts on Monday.
    events = _buy_then_sell("2026-11-06T17:30:00+00:00", "2026-11-13T10:00:00+08:00")
    assert last(TPlus5Violation(), events)[0].evidence["trading_days_apart"] == 4


def test_selling_then_buying_back_is_reported_too() -> None:
    events = [
        trade("T1", seller_owner_id="O1", seller_account="A1"),
        trade(
            "T2", event_time="2026-11-03T10:00:00+08:00", buyer_owner_id="O1", buyer_account="A1"
        ),
    ]
    [finding] = last(TPlus5Violation(), events)
    assert finding.evidence["side"] == "buy"


def test_owner_trading_through_two_accounts_is_caught_on_the_owner() -> None:
    events = _buy_then_sell(
        "2026-11-02T10:00:00+08:00", "2026-11-03T10:00:00+08:00", seller_account="A2"
    )
    [finding] = last(TPlus5Violation(), events)
    assert finding.evidence["basis"] == "owner"


def test_account_whose_owner_changed_is_caught_on_the_account() -> None:
    events = _buy_then_sell(
        "2026-11-02T10:00:00+08:00", "2026-11-03T10:00:00+08:00", seller_owner_id="O2"
    )
    [finding] = last(TPlus5Violation(), events)
    assert (finding.entity_id, finding.evidence["basis"]) == ("O2", "account")


def test_same_owner_on_both_sides_breaks_t_plus_5_at_once() -> None:
    event = trade(buyer_owner_id="O1", seller_owner_id="O1")
    [finding] = last(TPlus5Violation(), [event])
    assert finding.evidence["trading_days_apart"] == 0
    assert finding.severity is Severity.HIGH


def test_late_trade_is_compared_with_the_trades_around_it() -> None:
    events = [
        trade("T1", event_time="2026-11-02T10:00:00+08:00", buyer_owner_id="O1"),
        trade("T2", event_time="2026-11-11T10:00:00+08:00", buyer_owner_id="O1"),
        trade("T3", event_time="2026-11-04T10:00:00+08:00", seller_owner_id="O1"),
    ]
    [finding] = last(TPlus5Violation(), events)
    assert finding.event_ids == ("ev-T1", "ev-T3")


def test_different_products_are_independent() -> None:
    events = _buy_then_sell(
        "2026-11-02T10:00:00+08:00", "2026-11-03T10:00:00+08:00", product_id="P2"
    )
    assert run(TPlus5Violation(), events) == [[], []]


def _sales(n: int, start: int = 0) -> list[object]:
    """The issuer sells to ``n`` distinct buyers."""
    return [
        trade(f"T{i}", seller_owner_id="ISSUER", buyer_owner_id=f"O{i}")
        for i in range(start, start + n)
    ]


def _limit(n: int) -> DetectorParams:
    return DetectorParams(venue=VenueParams(holder_limit=n))


def test_exactly_the_holder_limit_is_lawful() -> None:
    assert all(fs == [] for fs in run(HolderLimit(params=_limit(3)), _sales(3)))


def test_one_holder_above_the_limit_is_reported() -> None:
    [finding] = last(HolderLimit(params=_limit(3)), _sales(4))
    assert finding.category is Category.HOLDER_LIMIT
    assert (finding.entity_type, finding.entity_id) == (EntityType.PRODUCT, "P1")
    assert finding.institution_id == "FJ-TV-0001"
    assert finding.evidence["holders"] == 4
    assert finding.evidence["limit"] == 3


def test_default_limit_is_two_hundred_holders() -> None:
    found = run(HolderLimit(), _sales(201))
    assert all(fs == [] for fs in found[:200])
    assert found[200][0].evidence["holders"] == 201


def test_issuer_negative_position_is_not_a_holder() -> None:
    [finding] = last(HolderLimit(params=_limit(1)), _sales(2))
    assert finding.evidence["holders"] == 2


def test_every_trade_of_a_product_over_the_limit_is_reported() -> None:
    events = [*_sales(4), trade("X", seller_owner_id="O0", buyer_owner_id="O1", quantity=50.0)]
    [finding] = last(HolderLimit(params=_limit(3)), events)
    assert finding.evidence["holders"] == 4
    assert not finding.cleared


def test_trades_within_the_limit_report_nothing() -> None:
    events = [*_sales(3), trade("X", seller_owner_id="O0", buyer_owner_id="O1", quantity=50.0)]
    assert all(fs == [] for fs in run(HolderLimit(params=_limit(3)), events))


def test_holder_selling_out_brings_the_count_back_and_clears() -> None:
    events = [*_sales(4), trade("X", seller_owner_id="O0", buyer_owner_id="O1")]
    [finding] = last(HolderLimit(params=_limit(3)), events)
    assert finding.cleared
    assert finding.evidence["holders"] == 3


def test_redelivered_trade_does_not_move_positions_twice() -> None:
    events = [*_sales(3), trade("T0", seller_owner_id="ISSUER", buyer_owner_id="O0")]
    assert all(fs == [] for fs in run(HolderLimit(params=_limit(3)), events))


def test_t_plus_5_state_forgets_idle_owners() -> None:
    det = TPlus5Violation()
    ctx = Context(registry=DictRegistry())
    state = None
    start = when("2026-11-02T10:00:00+08:00")
    for i in range(4 * PRUNE_EVERY):
        event = trade(
            f"T{i}",
            event_time=start + timedelta(days=i),
            buyer_owner_id=f"B{i}",
            seller_owner_id=f"S{i}",
            buyer_account=f"AB{i}",
            seller_account=f"AS{i}",
        )
        state, _ = det.detect(event, state, ctx)
    assert state is not None
    assert len(state["owners"]) < PRUNE_EVERY + 40
    assert len(state["accounts"]) < PRUNE_EVERY + 40
