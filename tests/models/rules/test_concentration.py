"""borrower_concentration, related_party_lending, guarantee_concentration."""

from __future__ import annotations

import pytest

from models import Category, EntityType, Severity
from models.rules import GuaranteeConcentration, LenderConcentration
from tests.models.rules._make import guarantee, institution, last, loan, registry, run

MC = institution(net_assets=236_000_000.0)
GT = institution("FJ-GT-0001", institution_type="guarantee", net_assets=100_000_000.0)


def test_borrower_exactly_at_ten_percent_of_net_assets_is_lawful() -> None:
    events = [loan("L1", outstanding=20_000_000.0), loan("L2", outstanding=3_600_000.0)]
    assert last(LenderConcentration(), events, registry(MC)) == []


def test_borrower_just_above_the_limit_is_reported_with_evidence() -> None:
    events = [loan("L1", outstanding=20_000_000.0), loan("L2", outstanding=3_600_000.01)]
    [finding] = last(LenderConcentration(), events, registry(MC))
    assert finding.category is Category.BORROWER_CONCENTRATION
    assert (finding.entity_type, finding.entity_id, finding.institution_id) == (
        EntityType.BORROWER,
        "B1",
        "FJ-MC-0001",
    )
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["borrower_outstanding"] == 23_600_000.01
    assert finding.evidence["net_assets"] == 236_000_000.0
    assert finding.evidence["limit"] == 0.10
    assert finding.evidence["ratio"] == pytest.approx(0.1, abs=1e-6)
    assert finding.evidence["rule"] == "lender_concentration"
    assert not finding.cleared


def test_other_borrowers_loans_do_not_add_to_the_exposure() -> None:
    events = [loan("L1", outstanding=20_000_000.0), loan("L2", borrower_id="B2", outstanding=9e6)]
    assert run(LenderConcentration(), events, registry(MC)) == [[], []]


@pytest.mark.parametrize(
    ("institution_type", "base", "lawful", "breach"),
    [
        ("pawn", {"registered_capital": 40_000_000.0}, 10_000_000.0, 10_000_000.01),
        ("leasing", {"net_assets": 50_000_000.0}, 15_000_000.0, 15_000_000.01),
    ],
)
def test_pawn_and_leasing_limits_use_their_base_figure(
    institution_type: str, base: dict[str, float], lawful: float, breach: float
) -> None:
    reg = registry(institution(institution_type=institution_type, **base))
    assert last(LenderConcentration(), [loan(outstanding=lawful, principal=breach)], reg) == []
    [finding] = last(LenderConcentration(), [loan(outstanding=breach, principal=breach)], reg)
    assert finding.evidence["base"] == next(iter(base))


def test_institution_type_without_a_limit_is_not_checked() -> None:
    reg = registry(institution(institution_type="local_bank", net_assets=1_000.0))
    assert last(LenderConcentration(), [loan(outstanding=1e6)], reg) == []


def test_missing_institution_record_means_no_limit_check() -> None:
    assert last(LenderConcentration(), [loan(outstanding=1e9, principal=1e9)]) == []


def test_breach_that_persists_keeps_reporting_the_same_identity() -> None:
    events = [
        loan("L1", outstanding=30e6, principal=30e6),
        loan(
            "L1",
            event_id="ev-L1-overdue",
            event_type="overdue",
            outstanding=30e6,
            principal=30e6,
            days_past_due=5,
        ),
    ]
    found = run(LenderConcentration(), events, registry(MC))
    assert [(f.category, f.entity_id) for fs in found for f in fs] == [
        (Category.BORROWER_CONCENTRATION, "B1")
    ] * 2


def test_a_redelivered_event_already_in_the_book_is_not_judged_again() -> None:
    """Its findings went out before its state was logged (a replay after a crash)."""
    first = loan("L1", outstanding=30e6, principal=30e6)
    found = run(LenderConcentration(), [first, first], registry(MC))
    assert [len(fs) for fs in found] == [1, 0]


def test_repayment_back_under_the_limit_clears_the_finding() -> None:
    events = [
        loan("L1", outstanding=30e6, principal=30e6),
        loan(
            "L1",
            event_type="repayment",
            outstanding=10e6,
            principal=30e6,
            payment_amount=20e6,
            event_time="2026-11-03T10:00:00+08:00",
        ),
        loan(
            "L1",
            event_type="repayment",
            outstanding=5e6,
            principal=30e6,
            payment_amount=5e6,
            event_time="2026-11-04T10:00:00+08:00",
        ),
    ]
    found = run(LenderConcentration(), events, registry(MC))
    assert [f.cleared for f in found[1]] == [True]
    assert found[1][0].severity is Severity.INFO
    assert found[1][0].entity_id == "B1"
    assert found[2] == []  # cleared once, not on every later event


def test_unrelated_event_of_the_institution_does_not_repeat_the_finding() -> None:
    events = [loan("L1", outstanding=30e6, principal=30e6), loan("L2", borrower_id="B2")]
    assert run(LenderConcentration(), events, registry(MC))[1] == []


def test_out_of_order_older_event_does_not_undo_a_newer_balance() -> None:
    events = [
        loan(
            "L1",
            event_type="repayment",
            outstanding=30e6,
            principal=40e6,
            event_time="2026-11-05T10:00:00+08:00",
        ),
        loan(
            "L1",
            event_id="ev-L1-origin",
            outstanding=40e6,
            principal=40e6,
            event_time="2026-11-02T10:00:00+08:00",
        ),
    ]
    [newer, older] = run(LenderConcentration(), events, registry(MC))
    [finding] = newer
    assert finding.evidence["borrower_outstanding"] == 30e6
    # Not judged: against today's book it would date a breach to the older event's time.
    assert older == []


def test_written_off_loan_leaves_the_exposure() -> None:
    events = [
        loan("L1", outstanding=30e6, principal=30e6),
        loan(
            "L1",
            event_type="written_off",
            outstanding=30e6,
            principal=30e6,
            event_time="2026-11-09T10:00:00+08:00",
        ),
    ]
    [finding] = last(LenderConcentration(), events, registry(MC))
    assert finding.cleared


def test_related_party_loans_summed_above_fifteen_percent_are_reported() -> None:
    reg = registry(institution(net_assets=100e6))
    events = [
        loan("L1", borrower_id="R1", related_party=True, outstanding=8e6, principal=8e6),
        loan("L2", borrower_id="R2", related_party=True, outstanding=7e6, principal=7e6),
        loan("L3", borrower_id="R3", related_party=True, outstanding=0.01, principal=1.0),
    ]
    found = run(LenderConcentration(), events, reg)
    assert found[1] == []  # exactly 15 %
    [finding] = found[2]
    assert finding.category is Category.RELATED_PARTY_LENDING
    assert (finding.entity_type, finding.entity_id) == (EntityType.INSTITUTION, "FJ-MC-0001")
    assert finding.evidence["related_outstanding"] == 15_000_000.01
    assert finding.evidence["limit"] == 0.15


def test_related_total_clears_when_a_related_loan_is_repaid() -> None:
    reg = registry(institution(net_assets=100e6))
    events = [
        loan("L1", borrower_id="R1", related_party=True, outstanding=9e6, principal=9e6),
        loan("L2", borrower_id="R2", related_party=True, outstanding=7e6, principal=7e6),
        loan(
            "L2",
            borrower_id="R2",
            related_party=True,
            event_type="repayment",
            outstanding=0.0,
            principal=7e6,
            event_time="2026-11-03T10:00:00+08:00",
        ),
    ]
    found = run(LenderConcentration(), events, reg)
    assert [f.cleared for f in found[2]] == [True]


def test_guarantee_single_debtor_above_ten_percent_is_reported() -> None:
    reg = registry(GT)
    assert last(GuaranteeConcentration(), [guarantee(outstanding=10e6, amount=10e6)], reg) == []
    [finding] = last(GuaranteeConcentration(), [guarantee(outstanding=10.5e6, amount=11e6)], reg)
    assert finding.category is Category.GUARANTEE_CONCENTRATION
    assert (finding.entity_type, finding.entity_id) == (EntityType.BORROWER, "D1")
    assert finding.institution_id == "FJ-GT-0001"
    assert finding.evidence["debtor_outstanding"] == 10.5e6


def test_guarantee_related_debtors_together_above_fifteen_percent_name_the_guarantor() -> None:
    events = [
        guarantee("G1", debtor_id="D1", debtor_related_party=True, outstanding=8e6, amount=8e6),
        guarantee("G2", debtor_id="D2", debtor_related_party=True, outstanding=8e6, amount=8e6),
    ]
    [finding] = last(GuaranteeConcentration(), events, registry(GT))
    assert (finding.entity_type, finding.entity_id) == (EntityType.INSTITUTION, "FJ-GT-0001")
    assert finding.evidence["related_outstanding"] == 16e6


def test_guarantee_released_clears_the_debtor_finding() -> None:
    events = [
        guarantee(outstanding=12e6, amount=12e6),
        guarantee(
            event_type="released",
            outstanding=0.0,
            amount=12e6,
            event_time="2026-11-05T10:00:00+08:00",
        ),
    ]
    [finding] = last(GuaranteeConcentration(), events, registry(GT))
    assert finding.cleared


def test_enterprise_guarantees_reported_by_a_lender_are_not_counted() -> None:
    event = guarantee(
        guarantor_id="E1",
        guarantor_type="enterprise",
        institution_id="FJ-MC-0001",
        outstanding=1e9,
        amount=1e9,
    )
    reg = registry(GT, institution("E1", net_assets=1.0))
    assert last(GuaranteeConcentration(), [event], reg) == []


def test_guarantor_without_a_record_is_not_checked() -> None:
    assert last(GuaranteeConcentration(), [guarantee(outstanding=1e9, amount=1e9)]) == []


def test_negative_net_assets_make_any_exposure_a_critical_breach() -> None:
    reg = registry(institution(net_assets=-5e6))
    [finding] = last(LenderConcentration(), [loan(outstanding=1.0, principal=1.0)], reg)
    assert finding.severity is Severity.CRITICAL
    assert finding.evidence["ratio"] is None
