"""guarantee_leverage: own outstanding guarantees above 10 × (15 × small/micro) net assets."""

from __future__ import annotations

import pytest

from models import Category, EntityType, Severity
from models.rules import GuaranteeLeverage
from tests.models.rules._make import guarantee, institution, last, registry, run


def _guarantor(**fields: object) -> object:
    return institution("FJ-GT-0001", institution_type="guarantee", net_assets=10e6, **fields)


def _book(*outstanding: float) -> list[object]:
    return [
        guarantee(f"G{i}", debtor_id=f"D{i}", outstanding=o, amount=o)
        for i, o in enumerate(outstanding)
    ]


def test_outstanding_exactly_ten_times_net_assets_is_lawful() -> None:
    assert last(GuaranteeLeverage(), _book(60e6, 40e6), registry(_guarantor())) == []


def test_outstanding_just_above_ten_times_is_reported_under_the_guarantor() -> None:
    [finding] = last(GuaranteeLeverage(), _book(60e6, 40_000_000.01), registry(_guarantor()))
    assert finding.category is Category.GUARANTEE_LEVERAGE
    assert (finding.entity_type, finding.entity_id) == (EntityType.GUARANTOR, "FJ-GT-0001")
    assert finding.institution_id == "FJ-GT-0001"
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["guarantees_outstanding"] == 100_000_000.01
    assert finding.evidence["net_assets"] == 10e6
    assert finding.evidence["limit"] == 10.0
    assert finding.evidence["ratio"] == pytest.approx(10.0)


def test_small_micro_guarantor_may_go_to_fifteen_times() -> None:
    reg = registry(_guarantor(serves_small_micro=True))
    assert last(GuaranteeLeverage(), _book(150e6), reg) == []
    [finding] = last(GuaranteeLeverage(), _book(150e6, 1.0), reg)
    assert finding.evidence["limit"] == 15.0
    assert finding.evidence["serves_small_micro"] is True


@pytest.mark.parametrize(
    ("total", "severity"),
    [(115e6, Severity.MEDIUM), (190e6, Severity.HIGH), (250e6, Severity.CRITICAL)],
)
def test_severity_by_multiple_of_the_limit(total: float, severity: Severity) -> None:
    assert last(GuaranteeLeverage(), _book(total), registry(_guarantor()))[0].severity is severity


def test_release_back_within_the_limit_clears() -> None:
    events = [
        *_book(60e6, 50e6),
        guarantee(
            "G1",
            debtor_id="D1",
            event_type="released",
            outstanding=0.0,
            amount=50e6,
            event_time="2026-11-04T10:00:00+08:00",
        ),
    ]
    found = run(GuaranteeLeverage(), events, registry(_guarantor()))
    assert [f.cleared for f in found[1]] == [False]
    assert [f.cleared for f in found[2]] == [True]


def test_lender_reported_enterprise_guarantees_are_not_counted() -> None:
    event = guarantee(
        institution_id="FJ-MC-0001", guarantor_type="enterprise", outstanding=1e9, amount=1e9
    )
    assert last(GuaranteeLeverage(), [event], registry(_guarantor())) == []


def test_missing_guarantor_record_means_no_check() -> None:
    assert last(GuaranteeLeverage(), _book(1e12)) == []


def test_redelivered_issue_does_not_count_twice() -> None:
    events = [*_book(60e6), *_book(60e6)]
    assert run(GuaranteeLeverage(), events, registry(_guarantor())) == [[], []]


def test_a_replay_behind_its_logged_state_raises_nothing_early() -> None:
    """The crash test's case: the book was logged after G0..G2, the offsets stopped at G0. The
    replayed G1 must not be judged against a total that already holds G2 (a breach dated
    before it happened); G2's replay is not judged either, its finding went out before."""
    book = _book(40e6, 50e6, 20e6)
    found = run(GuaranteeLeverage(), [*book, *book[1:]], registry(_guarantor()))
    assert [len(fs) for fs in found] == [0, 0, 1, 0, 0]
