"""Alert identity and the pure lifecycle steps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts import AlertStatus, dedup_key
from alerts.dedup import (
    finding_event_ids,
    merge,
    new_alert_id,
    open_alert,
    quiet_expired,
    resolve,
    sample_event_ids,
)
from models import Severity
from tests.alerts.conftest import T0, FindingFactory


def test_dedup_key_names_category_institution_and_entity() -> None:
    assert dedup_key("usurious_rate", "FJ-MC-0007", "L-1") == "usurious_rate:FJ-MC-0007:L-1"


def test_dedup_key_without_institution_uses_a_dash() -> None:
    assert dedup_key("regional_cluster", None, "350500") == "regional_cluster:-:350500"


def test_alert_id_is_deterministic_per_key_and_first_event() -> None:
    assert new_alert_id("k", "e1") == new_alert_id("k", "e1")
    assert new_alert_id("k", "e1") != new_alert_id("k", "e2")
    assert new_alert_id("k", "e1").startswith("al-")


def test_finding_without_event_ids_gets_one_from_detector_and_time(
    finding: FindingFactory,
) -> None:
    ids = finding_event_ids(finding(event_ids=()))
    assert ids == (f"rate_cap@{T0.isoformat()}",)


def test_repeated_event_ids_within_a_finding_count_once(finding: FindingFactory) -> None:
    assert finding_event_ids(finding(event_ids=("e1", "e2", "e1"))) == ("e1", "e2")


@pytest.mark.parametrize(
    ("count", "limit", "expected"),
    [
        (3, 4, ("0", "1", "2")),
        (4, 4, ("0", "1", "2", "3")),
        (9, 4, ("0", "1", "7", "8")),
        (10, 5, ("0", "1", "7", "8", "9")),
    ],
)
def test_event_id_sample_keeps_the_first_and_the_latest(
    count: int, limit: int, expected: tuple[str, ...]
) -> None:
    sample: tuple[str, ...] = ()
    for i in range(count):
        sample = sample_event_ids(sample, (str(i),), limit)
    assert sample == expected


def test_open_alert_starts_with_one_occurrence_at_event_time(finding: FindingFactory) -> None:
    alert = open_alert(finding(), event_ids=("e1",), max_event_ids=10, now=T0 + timedelta(days=9))
    assert alert.occurrences == 1
    assert alert.first_seen == alert.last_seen == T0
    assert alert.status is AlertStatus.OPEN
    assert alert.dedup_key == "usurious_rate:FJ-MC-0007:L-0001"


def test_merge_keeps_the_highest_severity_and_score(finding: FindingFactory) -> None:
    first = finding(severity=Severity.HIGH, score=0.9)
    alert = open_alert(first, event_ids=("e1",), max_event_ids=10, now=T0)
    repeat = finding(minutes=5, severity=Severity.LOW, score=0.3, event_ids=("e2",))
    merged = merge(alert, repeat, event_ids=("e2",), max_event_ids=10, now=T0)
    assert (merged.severity, merged.score) == (Severity.HIGH, 0.9)
    assert merged.occurrences == 2
    assert merged.last_seen == T0 + timedelta(minutes=5)
    assert merged.event_ids == ("e1", "e2")
    assert merged.revision == 2


def test_merge_of_a_late_event_widens_first_seen_and_keeps_latest_evidence(
    finding: FindingFactory,
) -> None:
    alert = open_alert(finding(evidence={"rate": 0.2}), event_ids=("e1",), max_event_ids=10, now=T0)
    late = finding(minutes=-30, evidence={"rate": 0.13}, event_ids=("e0",))
    merged = merge(alert, late, event_ids=("e0",), max_event_ids=10, now=T0)
    assert merged.first_seen == T0 - timedelta(minutes=30)
    assert merged.last_seen == T0
    assert merged.evidence == {"rate": 0.2}


def test_merge_raises_severity(finding: FindingFactory) -> None:
    alert = open_alert(finding(), event_ids=("e1",), max_event_ids=10, now=T0)
    worse = finding(severity=Severity.CRITICAL, score=0.99, event_ids=("e2",))
    assert merge(alert, worse, event_ids=("e2",), max_event_ids=10, now=T0).severity == "critical"


def test_resolve_is_never_before_last_seen(finding: FindingFactory) -> None:
    alert = open_alert(finding(minutes=10), event_ids=("e1",), max_event_ids=10, now=T0)
    closed = resolve(alert, at=T0, now=T0)
    assert closed.status is AlertStatus.RESOLVED
    assert closed.resolved_at == alert.last_seen


@pytest.mark.parametrize(("quiet_for", "expired"), [(59, False), (60, False), (61, True)])
def test_quiet_period_elapses_only_after_its_full_length(
    finding: FindingFactory, quiet_for: int, expired: bool
) -> None:
    alert = open_alert(finding(), event_ids=("e1",), max_event_ids=10, now=T0)
    clock = T0 + timedelta(minutes=quiet_for)
    assert quiet_expired(alert, clock=clock, quiet_period=timedelta(hours=1)) is expired
