"""usurious_rate: rate above 4 × LPR on new business."""

from __future__ import annotations

import pytest

from models import Category, DetectorParams, EntityType, Severity
from models.params import RateCapParams
from models.rules import UsuriousRate
from tests.models.rules._make import institution, last, loan, registry


def test_rate_exactly_at_cap_is_lawful() -> None:
    assert last(UsuriousRate(), [loan(annual_rate=0.12)]) == []


def test_rate_just_above_cap_is_reported_under_the_loan_and_lender() -> None:
    [finding] = last(UsuriousRate(), [loan(annual_rate=0.1201)])
    assert finding.category is Category.USURIOUS_RATE
    assert (finding.entity_type, finding.entity_id) == (EntityType.LOAN, "L1")
    assert finding.institution_id == "FJ-MC-0001"
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["annual_rate"] == 0.1201
    assert finding.evidence["limit"] == 0.12
    assert finding.evidence["rule"] == "usurious_rate"
    assert finding.detector.version == finding.evidence["version"] == "1"


@pytest.mark.parametrize(
    ("rate", "severity"),
    [
        (0.144, Severity.MEDIUM),
        (0.15, Severity.HIGH),
        (0.24, Severity.HIGH),
        (0.36, Severity.CRITICAL),
    ],
)
def test_severity_grows_with_how_far_over_the_cap(rate: float, severity: Severity) -> None:
    [finding] = last(UsuriousRate(), [loan(annual_rate=rate)])
    assert finding.severity is severity


def test_score_increases_with_the_rate() -> None:
    scores = [last(UsuriousRate(), [loan(annual_rate=r)])[0].score for r in (0.13, 0.2, 0.5)]
    assert scores == sorted(scores)
    assert all(0.0 <= s <= 1.0 for s in scores)


@pytest.mark.parametrize("event_type", ["repayment", "overdue", "default", "written_off"])
def test_existing_book_events_are_not_checked(event_type: str) -> None:
    assert last(UsuriousRate(), [loan(event_type=event_type, annual_rate=0.3)]) == []


def test_extension_at_a_usurious_rate_is_reported() -> None:
    assert len(last(UsuriousRate(), [loan(event_type="extended", annual_rate=0.3)])) == 1


def test_cap_per_institution_type_overrides_the_lpr_cap() -> None:
    params = DetectorParams(rate_cap=RateCapParams(per_type={"pawn": 0.36}))
    reg = registry(institution(institution_type="pawn"))
    assert last(UsuriousRate(params=params), [loan(annual_rate=0.30)], reg) == []
    [finding] = last(UsuriousRate(params=params), [loan(annual_rate=0.37)], reg)
    assert finding.evidence["cap_source"] == "per_type"


def test_missing_institution_record_uses_the_default_cap() -> None:
    params = DetectorParams(rate_cap=RateCapParams(per_type={"pawn": 0.36}))
    assert len(last(UsuriousRate(params=params), [loan(annual_rate=0.30)])) == 1


def test_params_version_is_stamped_on_the_finding() -> None:
    [finding] = last(UsuriousRate(params=DetectorParams(version="7")), [loan(annual_rate=0.5)])
    assert finding.detector.version == "7"
    assert finding.evidence["version"] == "7"
