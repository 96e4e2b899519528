"""Simulated time: integer seconds since the start, shown as RFC 3339 with +08:00.

Loans and guarantees are made in business hours every day; venues trade Monday–Friday in
session hours outside the holiday calendar, which is also what T+5 counts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

DAY = 86_400
HOUR = 3_600


class Clock:
    """Maps simulated seconds to local wall-clock time, days and trading days."""

    def __init__(self, start: datetime, holidays: tuple[date, ...] = ()) -> None:
        self.start = start
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self._offset = int((start - midnight).total_seconds())
        self._first_day = midnight.date()
        self._holidays = frozenset(holidays)
        self._cache: dict[int, str] = {}

    def stamp(self, t: int) -> str:
        """RFC 3339 timestamp of simulated second ``t``."""
        text = self._cache.get(t)
        if text is None:
            text = (self.start + timedelta(seconds=t)).isoformat()
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[t] = text
        return text

    def moment(self, t: int) -> datetime:
        return self.start + timedelta(seconds=t)

    def day(self, t: int) -> int:
        """Local calendar day index (0 = the start's date)."""
        return (t + self._offset) // DAY

    def second_of_day(self, t: int) -> int:
        return (t + self._offset) % DAY

    def day_start(self, day: int) -> int:
        """Simulated second of local midnight of ``day``."""
        return day * DAY - self._offset

    def is_trading_day(self, day: int) -> bool:
        when = self._first_day + timedelta(days=day)
        return when.weekday() < 5 and when not in self._holidays

    def trading_days_between(self, t0: int, t1: int) -> int:
        """Trading days from the day of ``t0`` to the day of ``t1`` (0 on the same day)."""
        d0, d1 = self.day(t0), self.day(t1)
        return sum(1 for d in range(d0 + 1, d1 + 1) if self.is_trading_day(d))

    def next_trading_day(self, day: int) -> int:
        day += 1
        while not self.is_trading_day(day):
            day += 1
        return day

    def advance(
        self, t: int, gap: float, *, opens: int, closes: int, trading_only: bool = False
    ) -> int:
        """``t`` moved forward by ``gap`` seconds of open time (between ``opens`` and ``closes``
        seconds of the local day; on trading days only when ``trading_only``)."""
        remaining = gap
        while True:
            day, sod = self.day(t), self.second_of_day(t)
            open_day = not trading_only or self.is_trading_day(day)
            if not open_day or sod >= closes:
                t = self.day_start(day + 1) + opens
                continue
            if sod < opens:
                t += opens - sod
                sod = opens
            left = closes - sod
            if remaining <= left:
                return t + max(1, int(remaining))
            remaining -= left
            t = self.day_start(day + 1) + opens
