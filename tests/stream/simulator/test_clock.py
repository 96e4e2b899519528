from __future__ import annotations

from datetime import date

import pytest

from stream.simulator.clock import DAY, HOUR, Clock
from stream.simulator.config import DEFAULT_START

OPENS, CLOSES = 9 * HOUR, 15 * HOUR


@pytest.fixture
def clock() -> Clock:
    return Clock(DEFAULT_START)  # a Monday, 00:00 +08:00


def test_stamp_is_rfc3339_with_the_fujian_offset(clock: Clock) -> None:
    assert clock.stamp(9 * HOUR + 30 * 60) == "2026-11-02T09:30:00+08:00"


def test_advance_waits_for_the_opening(clock: Clock) -> None:
    assert clock.advance(0, 60, opens=OPENS, closes=CLOSES) == OPENS + 60


def test_advance_carries_over_to_the_next_day(clock: Clock) -> None:
    t = clock.advance(14 * HOUR, 2 * HOUR, opens=OPENS, closes=CLOSES)
    assert t == DAY + OPENS + HOUR


def test_trading_time_skips_the_weekend(clock: Clock) -> None:
    friday_close = 4 * DAY + CLOSES - 60
    t = clock.advance(friday_close, 120, opens=OPENS, closes=CLOSES, trading_only=True)
    assert t == 7 * DAY + OPENS + 60  # Monday


def test_holidays_are_not_trading_days() -> None:
    clock = Clock(DEFAULT_START, holidays=(date(2026, 11, 3),))
    assert not clock.is_trading_day(1)
    assert clock.next_trading_day(0) == 2


def test_trading_days_between_counts_monday_to_friday(clock: Clock) -> None:
    assert clock.trading_days_between(0, 7 * DAY) == 5  # Monday to next Monday
    assert clock.trading_days_between(4 * DAY, 7 * DAY) == 1  # Friday to Monday
