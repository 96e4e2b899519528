"""Where and when scenarios go, so that one scenario never looks like another by accident.

Around each scenario (± the 7-day escalation window and a margin) an institution carries at
most ``max_categories`` distinct categories, and a prefecture has fewer than three institutions
with delinquency or compensation spikes (or contagion), unless the scenario is the escalation
or the regional cluster itself, which take their institution or prefecture alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from models.categories import Category
from stream.simulator.clock import DAY
from stream.simulator.world import InstitutionState

#: Categories that count towards a regional cluster (domain.md).
SPIKES = frozenset(
    {Category.DELINQUENCY_SPIKE, Category.COMPENSATION_SPIKE, Category.GUARANTEE_CONTAGION}
)
MARGIN = 7 * DAY + 12 * 3600


@dataclass(slots=True)
class _Booking:
    t0: int
    t1: int
    categories: frozenset[str]
    exclusive: bool


@dataclass
class Planner:
    """Bookings of institutions and prefectures over simulated time."""

    earliest: int
    latest: int
    by_institution: dict[str, list[_Booking]] = field(default_factory=dict)
    by_region: dict[str, list[tuple[int, int, str, bool]]] = field(default_factory=dict)
    retired: dict[str, int] = field(default_factory=dict)

    def times(self, rng: random.Random, count: int, span: int) -> list[int]:
        """``count`` start times spread over the run: one per equal stratum, in random order."""
        last = self.latest - span
        if last <= self.earliest:
            return []
        width = (last - self.earliest) / count
        starts = [int(self.earliest + width * (i + rng.random())) for i in range(count)]
        rng.shuffle(starts)
        return starts

    def free(
        self,
        institutions: list[InstitutionState],
        t0: int,
        t1: int,
        categories: frozenset[str],
        *,
        exclusive: bool = False,
        max_categories: int = 1,
        forever: bool = False,
    ) -> bool:
        """Whether the institutions can take the scenario (``forever``: nothing may follow)."""
        lo, hi = t0 - MARGIN, (10**12 if forever else t1 + MARGIN)
        for inst in institutions:
            iid = inst.institution_id
            if iid in self.retired and self.retired[iid] <= hi:
                return False
            near = [b for b in self.by_institution.get(iid, []) if b.t0 < hi and b.t1 > lo]
            if exclusive and near:
                return False
            if any(b.exclusive for b in near):
                return False
            seen = set(categories).union(*(b.categories for b in near))
            if len(seen) > max(max_categories, len(categories)):
                return False
            if categories & SPIKES and not self._region_free(inst.region_code, iid, lo, hi):
                return False
        return True

    def _region_free(self, region: str, iid: str, lo: int, hi: int) -> bool:
        near = [b for b in self.by_region.get(region, []) if b[0] < hi and b[1] > lo]
        if any(b[3] for b in near):
            return False
        return len({b[2] for b in near} | {iid}) < 3

    def region_free(self, region: str, t0: int, t1: int) -> bool:
        """No other spike in the prefecture around a regional-cluster scenario."""
        lo, hi = t0 - MARGIN, t1 + MARGIN
        return not [b for b in self.by_region.get(region, []) if b[0] < hi and b[1] > lo]

    def book(
        self,
        institutions: list[InstitutionState],
        t0: int,
        t1: int,
        categories: frozenset[str],
        *,
        exclusive: bool = False,
        cluster_region: str | None = None,
    ) -> None:
        for inst in institutions:
            booking = _Booking(t0, t1, categories, exclusive)
            self.by_institution.setdefault(inst.institution_id, []).append(booking)
            if categories & SPIKES:
                entry = (t0, t1, inst.institution_id, False)
                self.by_region.setdefault(inst.region_code, []).append(entry)
        if cluster_region is not None:
            self.by_region.setdefault(cluster_region, []).append((t0, t1, "", True))

    def retire(self, inst: InstitutionState, t: int) -> None:
        """From ``t`` on the institution is out of business: no later scenario may use it."""
        self.retired[inst.institution_id] = min(t, self.retired.get(inst.institution_id, t))
