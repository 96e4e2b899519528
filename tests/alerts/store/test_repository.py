"""The repository on SQLite and PostgreSQL: idempotent writes, filtered cursor pages, outbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from alerts import Alert, AlertFilter, AlertRepository, InvalidCursor, StaleAlert
from alerts.dedup import open_alert, resolve
from models import Category, Feed, Severity
from tests.alerts.conftest import T0, FindingFactory


def make_alert(finding: FindingFactory, i: int, **changes: object) -> Alert:
    built = open_alert(
        finding(entity_id=f"L-{i:04d}", minutes=i, event_ids=(f"e{i}",)),
        event_ids=(f"e{i}",),
        max_event_ids=10,
        now=T0,
    )
    return replace(built, **{"routes": ("office.banking_insurance", "eic"), **changes})


def save_all(engine: Engine, *items: Alert) -> None:
    with Session(engine) as session, session.begin():
        repo = AlertRepository(session)
        for alert in items:
            repo.save(alert)


def test_saved_alert_reads_back_equal(engine: Engine, finding: FindingFactory) -> None:
    alert = make_alert(finding, 1, evidence={"rate": 0.2, "window": ["a", "b"]})
    save_all(engine, alert)
    with Session(engine) as session:
        assert AlertRepository(session).get(alert.alert_id) == alert


def test_saving_twice_by_alert_id_keeps_one_row(engine: Engine, finding: FindingFactory) -> None:
    alert = make_alert(finding, 1)
    save_all(engine, alert)
    save_all(engine, replace(alert, occurrences=3, routes=("eic", "coordination")))
    with Session(engine) as session:
        repo = AlertRepository(session)
        assert repo.count() == 1
        got = repo.get(alert.alert_id)
        assert got is not None and got.occurrences == 3
        assert repo.count(AlertFilter(receivers=["office.banking_insurance"])) == 0
        assert repo.count(AlertFilter(receivers=["coordination"])) == 1


def test_saving_over_a_newer_revision_fails(engine: Engine, finding: FindingFactory) -> None:
    alert = make_alert(finding, 1)
    save_all(engine, alert)
    newer = replace(alert, occurrences=2, revision=2)
    with Session(engine) as session, session.begin():
        AlertRepository(session).save(newer, previous=alert)
    stale = replace(alert, revision=2)
    with (
        Session(engine) as session,
        session.begin(),
        pytest.raises(StaleAlert, match="no longer at revision 1"),
    ):
        AlertRepository(session).save(stale, previous=alert)
    with Session(engine) as session:
        got = AlertRepository(session).get(alert.alert_id)
        assert got is not None and got.occurrences == 2


def test_active_finds_the_open_alert_of_a_key_not_a_resolved_one(
    engine: Engine, finding: FindingFactory
) -> None:
    alert = make_alert(finding, 1)
    save_all(engine, resolve(alert, at=T0, now=T0))
    with Session(engine) as session:
        assert AlertRepository(session).active(alert.dedup_key) is None
    reopened = replace(make_alert(finding, 1), alert_id="al-second")
    save_all(engine, reopened)
    with Session(engine) as session:
        found = AlertRepository(session).active(alert.dedup_key)
        assert found is not None and found.alert_id == "al-second"


def test_pages_walk_every_alert_newest_first_without_repeats(
    engine: Engine, finding: FindingFactory
) -> None:
    save_all(engine, *(make_alert(finding, i) for i in range(7)))
    # Two alerts at the same last_seen: the alert id breaks the tie.
    save_all(engine, replace(make_alert(finding, 3), alert_id="al-zzz", dedup_key="other"))
    seen: list[str] = []
    cursor = None
    with Session(engine) as session:
        repo = AlertRepository(session)
        while True:
            page = repo.page(limit=3, cursor=cursor)
            seen += [a.alert_id for a in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        everything = repo.page(limit=100).items
    assert seen == [a.alert_id for a in everything]
    assert len(seen) == 8 == len(set(seen))
    times = [a.last_seen for a in everything]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (AlertFilter(category=["default_risk"]), {1}),
        (AlertFilter(severity=["critical"]), {2}),
        (AlertFilter(status=["resolved"]), {3}),
        (AlertFilter(feed=["trades"]), {4}),
        (AlertFilter(institution_id="FJ-TV-1"), {4}),
        (AlertFilter(institution_type=["trading_venue"]), {4}),
        (AlertFilter(region_code=["350100"]), {4}),
        (AlertFilter(receivers=["office.capital_markets"]), {4}),
        (AlertFilter(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4)), {2, 3}),
        (AlertFilter(category=["usurious_rate"], severity=["medium"], feed=["loans"]), {0, 3}),
    ],
)
def test_filters_select_the_matching_alerts(
    engine: Engine, finding: FindingFactory, where: AlertFilter, expected: set[int]
) -> None:
    resolved = make_alert(finding, 3)
    save_all(
        engine,
        make_alert(finding, 0),
        make_alert(finding, 1, category=Category.DEFAULT_RISK),
        make_alert(finding, 2, severity=Severity.CRITICAL),
        resolve(resolved, at=resolved.last_seen, now=T0),
        make_alert(
            finding,
            4,
            feed=Feed.TRADES,
            institution_id="FJ-TV-1",
            institution_type="trading_venue",
            region_code="350100",
            routes=("office.capital_markets",),
        ),
    )
    with Session(engine) as session:
        items = AlertRepository(session).page(where, limit=100).items
    assert {int(a.entity_id[2:]) for a in items} == expected


def test_agency_page_follows_the_alerts_latest_times(
    engine: Engine, finding: FindingFactory
) -> None:
    older, newer = make_alert(finding, 1), make_alert(finding, 2)
    save_all(engine, older, newer)
    moved = replace(older, last_seen=T0 + timedelta(hours=1), revision=2)
    with Session(engine) as session, session.begin():
        AlertRepository(session).save(moved, previous=older)
    with Session(engine) as session:
        repo = AlertRepository(session)
        first = repo.page(AlertFilter(receivers=["eic"]), limit=1)
        second = repo.page(AlertFilter(receivers=["eic"]), limit=1, cursor=first.next_cursor)
        assert [a.entity_id for a in first.items + second.items] == ["L-0001", "L-0002"]
        assert second.next_cursor is None
        assert repo.count(AlertFilter(receivers=["eic"], category=["usurious_rate"])) == 2
        assert repo.count(AlertFilter(receivers=["eic", "coordination"])) == 2


def test_first_seen_order_is_available(engine: Engine, finding: FindingFactory) -> None:
    late_start = replace(make_alert(finding, 5), first_seen=T0 - timedelta(days=1))
    save_all(engine, make_alert(finding, 1), late_start)
    with Session(engine) as session:
        items = AlertRepository(session).page(sort="first_seen").items
    assert [a.entity_id for a in items] == ["L-0001", "L-0005"]


def test_altered_cursor_is_rejected(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(InvalidCursor, match="invalid page cursor"):
        AlertRepository(session).page(cursor="not-a-cursor")


def test_event_ids_are_recorded_once_per_key(engine: Engine, finding: FindingFactory) -> None:
    alert = make_alert(finding, 1)
    with Session(engine) as session, session.begin():
        repo = AlertRepository(session)
        repo.save(alert)
        repo.record_events(alert, ["e1", "e2"], event_time=T0, now=T0)
    with Session(engine) as session:
        repo = AlertRepository(session)
        assert repo.seen_event_ids(alert.dedup_key, ["e2", "e3"]) == {"e2"}
        assert repo.seen_event_ids("another:-:key", ["e2"]) == set()


def test_outbox_queues_a_change_once_and_tracks_attempts(
    engine: Engine, finding: FindingFactory
) -> None:
    alert = make_alert(finding, 1)
    targets = [("office.banking_insurance", "g1"), ("eic", "g1")]
    with Session(engine) as session, session.begin():
        repo = AlertRepository(session)
        repo.save(alert)
        assert repo.enqueue(alert, kind="opened", receivers=targets, now=T0) == 2
        assert repo.enqueue(alert, kind="opened", receivers=targets, now=T0) == 0
    with Session(engine) as session, session.begin():
        repo = AlertRepository(session)
        first, second = repo.pending(now=T0)
        assert first.payload == alert.to_cloudevent("opened")
        repo.mark_delivered(first.id, at=T0)
        repo.mark_failed(second.id, error="HTTP 503", retry_at=T0 + timedelta(minutes=1))
    with Session(engine) as session:
        repo = AlertRepository(session)
        assert repo.pending(now=T0) == []
        [retry] = repo.pending(now=T0 + timedelta(minutes=1))
        assert (retry.receiver, retry.attempts) == ("eic", 1)
