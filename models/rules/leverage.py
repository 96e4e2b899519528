"""guarantee_leverage: a financing guarantee company's outstanding guarantees against net assets.

Source: 融资担保公司监督管理条例 (2017) art. 15: guarantee liabilities ≤ 10 × net assets, 15 × for
firms mainly serving small/micro and agricultural clients (``serves_small_micro`` on the record).

The other leverage limits of domain.md cannot be reported: microcredit funding limits need
borrowing data no feed carries, and the leasing risk-asset multiple has no catalogue category
(see docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models.book import apply_guarantee, is_own_guarantee
from models.book_repair import repair_books
from models.categories import Category, DetectorKind, EntityType, Feed
from models.detector import Context, Detector
from models.events import Guarantee
from models.findings import Finding
from models.rules._breach import Breach, keyed_flag_transition, limit_finding
from models.state import KeyedState, StateRepair

__all__ = ["GuaranteeLeverage"]


class GuaranteeLeverage(Detector):
    """Category ``guarantee_leverage``: own outstanding guarantees above a multiple of net assets.

    Every guarantee the company reports itself changes its total, so each such event while the
    limit is broken produces a finding (one identity per guarantor), and the event that brings
    the total back within the limit produces a ``cleared`` one. Without an institution record
    the book is kept and nothing is reported. An event the book already holds (a replay) or one
    older than it is not judged (``models.book.ExposureChange``).

    Parameters (``params.leverage``)
    ----------
    guarantee_multiple : float, default 10.0
    guarantee_multiple_small_micro : float, default 15.0
        Used when the guarantor's latest record has ``serves_small_micro``.

    Example: net assets 100 m, outstanding 1,000 m is lawful; 1,000.01 m is a finding (medium);
    for a small/micro guarantor the limit is 1,500 m.
    """

    feed = Feed.GUARANTEES
    categories = (Category.GUARANTEE_LEVERAGE,)
    kind = DetectorKind.RULE
    name = "guarantee_leverage"
    namespace = "guarantee_leverage"
    keyed = True

    def repair(self, entries: Iterable[tuple[str, Any]]) -> list[StateRepair]:
        return repair_books(entries)

    def state_key(self, event: Guarantee) -> str:
        return event.guarantor_id

    def detect(
        self, event: Guarantee, state: KeyedState, ctx: Context
    ) -> tuple[KeyedState, list[Finding]]:
        if not is_own_guarantee(event):
            return state, []
        change = apply_guarantee(state, event)
        record = ctx.registry.get(event.guarantor_id)
        if record is None or not change.applied:
            return state, []
        p = self.params.leverage
        small_micro = record.serves_small_micro
        multiple = p.guarantee_multiple_small_micro if small_micro else p.guarantee_multiple
        breach = Breach(change.total, multiple, "net_assets", record.net_assets)
        guarantor = event.guarantor_id
        if not keyed_flag_transition(state, guarantor, guarantor, breach.breached):
            return state, []
        finding = limit_finding(
            breach=breach,
            observed_key="guarantees_outstanding",
            category=Category.GUARANTEE_LEVERAGE,
            feed=Feed.GUARANTEES,
            entity_type=EntityType.GUARANTOR,
            entity_id=event.guarantor_id,
            institution_id=event.guarantor_id,
            event_id=event.event_id,
            event_time=event.event_time,
            detector=self.ref,
            extra={
                "serves_small_micro": small_micro,
                "guarantee_id": event.guarantee_id,
                "event_type": event.event_type,
            },
        )
        return state, [finding]
