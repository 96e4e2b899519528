"""borrower_concentration, related_party_lending, guarantee_concentration: single-client limits.

Sources (domain.md, Regulatory thresholds): microcredit one borrower ≤ 10 % of net assets
(金规〔2024〕26号); pawn one client ≤ 25 % of registered capital (典当管理办法 2005); leasing one
lessee ≤ 30 % of net assets (融资租赁公司监督管理暂行办法 2020); a lender's related-party loans
together ≤ 15 % of net assets; a financing guarantor's one debtor ≤ 10 % of net assets and its
related-party debtors together ≤ 15 % (融资担保公司监督管理条例 art. 16).

Exposure is the sum of a counterparty's outstanding balances in the lender's or guarantor's book
(``models.book``); limits use the latest institution record. A value exactly at a limit is
lawful. Without a record no limit can be computed: the book is still kept, nothing is reported.
A finding is emitted when an event touches a breaching exposure (its borrower, its debtor, or a
related-party position), and a ``cleared`` finding when such an event brings it back in limits.

State is keyed (``Detector.keyed``): the book's keys (``models.book``) plus one flag key per
open breach, ``owner|f|counterparty`` or ``owner|f|@related``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models.book import apply_guarantee, apply_loan, is_own_guarantee
from models.book_repair import repair_books
from models.categories import Category, DetectorKind, EntityType, Feed
from models.detector import Context, Detector
from models.events import Guarantee, Institution, Loan
from models.findings import Finding
from models.rules._breach import Breach, keyed_flag_transition, limit_finding
from models.state import KeyedState, StateRepair

__all__ = ["GuaranteeConcentration", "LenderConcentration"]

#: Flag of a lender's or guarantor's related-party total (counterparty ids never start "@").
_RELATED = "@related"


class LenderConcentration(Detector):
    """Categories ``borrower_concentration`` and ``related_party_lending`` from one lender book.

    Parameters (``params.concentration``)
    ----------
    single_client : dict of institution_type to ExposureLimit
        Default microcredit 0.10 × net_assets, pawn 0.25 × registered_capital, leasing
        0.30 × net_assets; types without an entry are not checked.
    related_party_total : float, default 0.15
        Related-party loans of one lender, summed, as a share of its net assets.

    Example: a microcredit firm with net assets 236 m lending 23.6 m to one borrower is lawful;
    one more yuan is a ``borrower_concentration`` finding (medium, ratio 0.1000000042).
    """

    feed = Feed.LOANS
    categories = (Category.BORROWER_CONCENTRATION, Category.RELATED_PARTY_LENDING)
    kind = DetectorKind.RULE
    name = "lender_concentration"
    namespace = "lender_book"
    keyed = True

    def repair(self, entries: Iterable[tuple[str, Any]]) -> list[StateRepair]:
        return repair_books(entries)

    def state_key(self, event: Loan) -> str:
        return event.institution_id

    def detect(
        self, event: Loan, state: KeyedState, ctx: Context
    ) -> tuple[KeyedState, list[Finding]]:
        change = apply_loan(state, event)
        record = ctx.registry.get(event.institution_id)
        if record is None or not change.applied:
            return state, []
        lender = event.institution_id
        p = self.params.concentration
        findings: list[Finding] = []
        extra = {
            "institution_type": record.institution_type,
            "loan_id": event.loan_id,
            "event_type": event.event_type,
        }
        single = p.single_client.get(record.institution_type)
        if single is not None:
            base = _base(record, single.base)
            breach = Breach(change.exposure, single.limit, single.base, base)
            if keyed_flag_transition(state, lender, event.borrower_id, breach.breached):
                findings.append(
                    self._finding(
                        breach,
                        "borrower_outstanding",
                        Category.BORROWER_CONCENTRATION,
                        EntityType.BORROWER,
                        event.borrower_id,
                        event,
                        extra,
                    )
                )
        if change.related_touched:
            breach = Breach(
                change.related_total, p.related_party_total, "net_assets", record.net_assets
            )
            if keyed_flag_transition(state, lender, _RELATED, breach.breached):
                findings.append(
                    self._finding(
                        breach,
                        "related_outstanding",
                        Category.RELATED_PARTY_LENDING,
                        EntityType.INSTITUTION,
                        event.institution_id,
                        event,
                        {**extra, "borrower_id": event.borrower_id},
                    )
                )
        return state, findings

    def _finding(
        self,
        breach: Breach,
        observed_key: str,
        category: Category,
        entity_type: EntityType,
        entity_id: str,
        event: Loan,
        extra: dict[str, Any],
    ) -> Finding:
        return limit_finding(
            breach=breach,
            observed_key=observed_key,
            category=category,
            feed=Feed.LOANS,
            entity_type=entity_type,
            entity_id=entity_id,
            institution_id=event.institution_id,
            event_id=event.event_id,
            event_time=event.event_time,
            detector=self.ref,
            extra=extra,
        )


class GuaranteeConcentration(Detector):
    """Category ``guarantee_concentration``: one debtor, or all related debtors, of a guarantor.

    Counts the financing guarantees a guarantee company reports itself (``is_own_guarantee``);
    enterprise and personal guarantors have no such limit.

    Parameters (``params.concentration``)
    ----------
    guarantee_single_debtor : float, default 0.10
        One debtor's outstanding guarantees as a share of the guarantor's net assets.
    guarantee_related_total : float, default 0.15
        All related-party debtors together, as a share of net assets.

    Example: a guarantor with net assets 100 m guaranteeing 10 m for one debtor is lawful;
    10.5 m is a finding naming the debtor (medium); related-party debtors at 16 m in total are a
    finding naming the guarantor.
    """

    feed = Feed.GUARANTEES
    categories = (Category.GUARANTEE_CONCENTRATION,)
    kind = DetectorKind.RULE
    name = "guarantee_concentration"
    namespace = "guarantor_book"
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
        guarantor = event.guarantor_id
        p = self.params.concentration
        findings: list[Finding] = []
        extra = {"guarantee_id": event.guarantee_id, "event_type": event.event_type}
        single = Breach(change.exposure, p.guarantee_single_debtor, "net_assets", record.net_assets)
        if keyed_flag_transition(state, guarantor, event.debtor_id, single.breached):
            findings.append(
                self._finding(
                    single, "debtor_outstanding", EntityType.BORROWER, event.debtor_id, event, extra
                )
            )
        if change.related_touched:
            related = Breach(
                change.related_total, p.guarantee_related_total, "net_assets", record.net_assets
            )
            if keyed_flag_transition(state, guarantor, _RELATED, related.breached):
                related_extra = {**extra, "debtor_id": event.debtor_id}
                findings.append(
                    self._finding(
                        related,
                        "related_outstanding",
                        EntityType.INSTITUTION,
                        event.guarantor_id,
                        event,
                        related_extra,
                    )
                )
        return state, findings

    def _finding(
        self,
        breach: Breach,
        observed_key: str,
        entity_type: EntityType,
        entity_id: str,
        event: Guarantee,
        extra: dict[str, Any],
    ) -> Finding:
        return limit_finding(
            breach=breach,
            observed_key=observed_key,
            category=Category.GUARANTEE_CONCENTRATION,
            feed=Feed.GUARANTEES,
            entity_type=entity_type,
            entity_id=entity_id,
            institution_id=event.guarantor_id,
            event_id=event.event_id,
            event_time=event.event_time,
            detector=self.ref,
            extra=extra,
        )


def _base(record: Institution, base_name: str) -> float:
    """The record's figure a limit is a share of: ``net_assets`` or ``registered_capital``."""
    value: float = getattr(record, base_name)
    return value
