"""What a simulated run looks like: seed, size, start instant and the scenario mix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from models.categories import Category

#: Fujian local time: every simulated timestamp carries this offset.
FUJIAN_TZ = timezone(timedelta(hours=8))

#: A Monday at local midnight, so a 30-day run covers whole trading weeks.
DEFAULT_START = datetime(2026, 11, 2, 0, 0, tzinfo=FUJIAN_TZ)

#: Categories the simulator injects (``model_drift`` is about a model, not the feeds).
INJECTED_CATEGORIES: tuple[Category, ...] = tuple(c for c in Category if c != Category.MODEL_DRIFT)


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Parameters of one simulated history.

    Parameters
    ----------
    seed : int
        All randomness derives from it: the same config gives the same records, byte for byte.
    events : int or None
        Stop after this many records; the simulated span is sized to fit (about 1,300 a day
        with 200 institutions). Give ``events`` or ``duration``; with neither, 30 days.
    duration : float or None
        Simulated seconds to cover.
    institutions : int, default 200
        Supervised institutions of every type across the ten prefectures.
    scenarios : int or mapping, default 3
        Injections per category, or a ``{category: count}`` mix (missing categories: 0).
    start : datetime
        First event time (aware); defaults to a Monday at 00:00 +08:00.
    warmup_days : float or None
        No scenario starts before this; default min(7 days, 25 % of the span).
    holidays : tuple of date
        Non-trading weekdays for the venues (T+5 counts Monday–Friday outside them).
    """

    seed: int = 0
    events: int | None = None
    duration: float | None = None
    institutions: int = 200
    scenarios: int | Mapping[str, int] = 3
    start: datetime = DEFAULT_START
    warmup_days: float | None = None
    holidays: tuple[date, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.events is not None and self.events < 1:
            raise ValueError(f"events must be >= 1, got {self.events}")
        if self.duration is not None and self.duration <= 0:
            raise ValueError(f"duration must be > 0 seconds, got {self.duration}")
        if self.institutions < 60:
            raise ValueError(f"institutions must be >= 60, got {self.institutions}")
        if self.start.tzinfo is None:
            raise ValueError(f"start must carry a UTC offset, got {self.start.isoformat()}")
        for category in self.scenario_mix():
            if category not in INJECTED_CATEGORIES:
                raise ValueError(f"cannot inject category {category!r}")

    def scenario_mix(self) -> dict[Category, int]:
        """Injections per category."""
        if isinstance(self.scenarios, int):
            if self.scenarios < 0:
                raise ValueError(f"scenarios must be >= 0, got {self.scenarios}")
            return dict.fromkeys(INJECTED_CATEGORIES, self.scenarios)
        mix: dict[Category, int] = {}
        for name, count in self.scenarios.items():
            try:
                category = Category(name)
            except ValueError:
                raise ValueError(f"unknown scenario category {name!r}") from None
            if count < 0:
                raise ValueError(f"scenario count for {name} must be >= 0, got {count}")
            mix[category] = int(count)
        return mix
