"""Silences and per-entity snoozes: matching alerts are stored but not delivered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts import AlertPipeline, InvalidSilence
from alerts.errors import SilenceNotFound
from alerts.silences import Silences
from alerts.store import AlertRepository, writer
from alerts.store.tables import outbox
from models import Category
from tests.alerts.conftest import Clock, FindingFactory


def queued(pipeline: AlertPipeline) -> int:
    with Session(pipeline.engine) as session:
        return int(session.scalar(select(func.count()).select_from(outbox)) or 0)


def silence(pipeline: AlertPipeline, clock: Clock, matchers: list[str], hours: float = 2) -> str:
    with Session(writer(pipeline.engine)) as session, session.begin():
        created = Silences(session).create(
            matchers=matchers,
            starts_at=clock.now,
            ends_at=clock.now + timedelta(hours=hours),
            created_by="wang.fang",
            comment="known issue, lender is being inspected",
            now=clock.now,
        )
    return created.silence_id


def test_silenced_alert_is_stored_but_not_delivered(
    pipeline: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    silence_id = silence(pipeline, clock, ['institution_id="FJ-MC-0007"'])
    [change] = pipeline.handle(finding())
    assert change.kind == "opened"
    assert queued(pipeline) == 0
    with Session(pipeline.engine) as session:
        [entry] = AlertRepository(session).history(change.alert.alert_id)
    assert entry.detail["muted_by"] == f"silence {silence_id}"


def test_silence_only_mutes_matching_alerts(
    pipeline: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    silence(pipeline, clock, ['category="wash_trade"'])
    pipeline.handle(finding())
    assert queued(pipeline) == 2


def test_expired_silence_mutes_nothing(
    pipeline: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    silence_id = silence(pipeline, clock, ['entity_id="L-0001"'])
    with Session(writer(pipeline.engine)) as session, session.begin():
        Silences(session).expire(silence_id, by="wang.fang", at=clock.now)
    pipeline.handle(finding())
    assert queued(pipeline) == 2


def test_silence_runs_on_the_wall_clock(
    pipeline: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    silence(pipeline, clock, ['entity_id="L-0001"'], hours=1)
    clock.now += timedelta(hours=1)
    pipeline.handle(finding())
    assert queued(pipeline) == 2


def test_snooze_mutes_one_entity_and_category(
    pipeline: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    with Session(writer(pipeline.engine)) as session, session.begin():
        Silences(session).snooze(
            "L-0001",
            until=clock.now + timedelta(days=1),
            created_by="wang.fang",
            comment="restructuring agreed",
            now=clock.now,
            category="usurious_rate",
        )
    pipeline.handle(finding())
    assert queued(pipeline) == 0
    pipeline.handle(finding(category=Category.DEFAULT_RISK, event_ids=("d1",)))
    assert queued(pipeline) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"matchers": []}, "at least one matcher"),
        ({"matchers": ['colour="red"']}, "unknown label 'colour'"),
        ({"comment": " "}, "creator and a comment"),
        ({"ends_at_hours": 0}, "at or before it starts"),
    ],
)
def test_bad_silence_is_rejected(
    pipeline: AlertPipeline, clock: Clock, changes: dict[str, object], message: str
) -> None:
    hours = changes.pop("ends_at_hours", 1)
    args: dict[str, object] = {
        "matchers": ['entity_id="L-1"'],
        "starts_at": clock.now,
        "ends_at": clock.now + timedelta(hours=float(hours)),  # type: ignore[arg-type]
        "created_by": "a",
        "comment": "why",
        "now": clock.now,
        **changes,
    }
    with Session(pipeline.engine) as session, pytest.raises(InvalidSilence, match=message):
        Silences(session).create(**args)  # type: ignore[arg-type]


def test_unknown_silence_is_not_found(pipeline: AlertPipeline, clock: Clock) -> None:
    with Session(pipeline.engine) as session, pytest.raises(SilenceNotFound, match="si-x"):
        Silences(session).expire("si-x", by="a", at=clock.now)
