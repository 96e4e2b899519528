"""unlicensed_activity: new business by a suspended, revoked, liquidating or unknown institution."""

from __future__ import annotations

import pytest

from models import Category, DetectorParams, EntityType, Severity
from models.params import LicensingParams
from models.rules import UnlicensedGuaranteeing, UnlicensedLending, UnlicensedTrading
from tests.models.rules._make import guarantee, institution, last, loan, registry, run, trade


@pytest.mark.parametrize(
    ("status", "severity"),
    [
        ("revoked", Severity.CRITICAL),
        ("in_liquidation", Severity.CRITICAL),
        ("suspended", Severity.HIGH),
    ],
)
def test_new_loan_by_a_blocked_institution_is_reported(status: str, severity: Severity) -> None:
    [finding] = last(UnlicensedLending(), [loan()], registry(institution(license_status=status)))
    assert finding.category is Category.UNLICENSED_ACTIVITY
    assert (finding.entity_type, finding.entity_id) == (EntityType.INSTITUTION, "FJ-MC-0001")
    assert finding.institution_id == "FJ-MC-0001"
    assert finding.severity is severity
    assert finding.evidence["license_status"] == status


def test_active_institution_may_lend() -> None:
    assert last(UnlicensedLending(), [loan()], registry(institution())) == []


def test_institution_without_a_record_is_unlicensed() -> None:
    [finding] = last(UnlicensedLending(), [loan(event_type="extended")])
    assert finding.evidence["license_status"] == "unknown"


def test_unknown_institution_can_be_tolerated_by_config() -> None:
    params = DetectorParams(licensing=LicensingParams(unknown_is_unlicensed=False))
    assert last(UnlicensedLending(params=params), [loan()]) == []


@pytest.mark.parametrize("event_type", ["repayment", "overdue", "default", "written_off"])
def test_collecting_an_existing_book_is_lawful(event_type: str) -> None:
    reg = registry(institution(license_status="revoked"))
    assert last(UnlicensedLending(), [loan(event_type=event_type)], reg) == []


def test_guarantee_issued_by_a_revoked_guarantor_is_reported() -> None:
    reg = registry(
        institution("FJ-GT-0001", institution_type="guarantee", license_status="revoked")
    )
    [finding] = last(UnlicensedGuaranteeing(), [guarantee()], reg)
    assert finding.entity_id == finding.institution_id == "FJ-GT-0001"
    assert last(UnlicensedGuaranteeing(), [guarantee(event_type="released")], reg) == []


def test_any_trade_on_a_suspended_venue_is_reported_under_the_venue() -> None:
    reg = registry(
        institution("FJ-TV-0001", institution_type="trading_venue", license_status="suspended")
    )
    [finding] = last(UnlicensedTrading(), [trade()], reg)
    assert (finding.entity_type, finding.entity_id) == (EntityType.INSTITUTION, "FJ-TV-0001")
    assert finding.feed == "trades"


def test_first_lawful_business_after_reinstatement_clears_once() -> None:
    reinstated = institution(event_id="inst-v2", event_time=loan().event_time)
    events = [loan("L1"), reinstated, loan("L2"), loan("L3")]
    found = run(UnlicensedLending(), events, registry(institution(license_status="suspended")))
    assert [[f.cleared for f in fs] for fs in found] == [[False], [], [True], []]


def test_lawful_business_with_nothing_open_reports_nothing() -> None:
    assert run(UnlicensedLending(), [loan("L1"), loan("L2")], registry(institution())) == [[], []]
