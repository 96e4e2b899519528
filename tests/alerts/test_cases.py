"""The case workflow and the escalation timers, with a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import AlertNotFound, AlertPipeline, AlertStatus, InvalidTransition
from alerts.cases import CaseWorkflow
from alerts.store import writer
from alerts.store.tables import outbox
from models import Severity
from tests.alerts.conftest import T0, Clock, FindingFactory


@pytest.fixture
def opened(pipeline: AlertPipeline, finding: FindingFactory) -> str:
    [change] = pipeline.handle(finding())
    return change.alert.alert_id


@pytest.fixture
def cases(pipeline: AlertPipeline, clock: Clock) -> Iterator[CaseWorkflow]:
    with Session(writer(pipeline.engine)) as session, session.begin():
        yield CaseWorkflow(session, routing=pipeline.routing, clock=clock)


def outbox_kinds(pipeline: AlertPipeline) -> list[tuple[str, str]]:
    with Session(pipeline.engine) as session:
        query = select(outbox.c.receiver, outbox.c.kind).order_by(outbox.c.id)
        return [tuple(r) for r in session.execute(query)]  # type: ignore[misc]


def test_acknowledge_records_who_and_when(cases: CaseWorkflow, opened: str, clock: Clock) -> None:
    alert = cases.acknowledge(opened, actor="zhang.wei", comment="calling the lender")
    assert alert.status is AlertStatus.ACKNOWLEDGED
    assert alert.acknowledged_at == clock.now
    entry = cases.history(opened)[-1]
    assert (entry.action, entry.actor, entry.from_status, entry.to_status) == (
        "acknowledged",
        "zhang.wei",
        "open",
        "acknowledged",
    )
    assert entry.detail == {"comment": "calling the lender"}


def test_acknowledging_twice_changes_nothing(cases: CaseWorkflow, opened: str) -> None:
    first = cases.acknowledge(opened, actor="a")
    assert cases.acknowledge(opened, actor="b") == first
    assert [h.action for h in cases.history(opened)] == ["opened", "acknowledged"]


def test_assign_and_comment_are_in_the_audit_trail(cases: CaseWorkflow, opened: str) -> None:
    assert cases.assign(opened, actor="lead", assignee="li.na").assignee == "li.na"
    note = cases.comment(opened, actor="li.na", text="asked for the loan contract")
    assert note.detail == {"text": "asked for the loan contract"}
    assert [h.action for h in cases.history(opened)] == ["opened", "assigned", "commented"]


def test_escalate_raises_the_level_and_tells_the_new_receivers(
    pipeline: AlertPipeline, cases: CaseWorkflow, opened: str
) -> None:
    alert = cases.escalate(
        opened, actor="li.na", reason="repeat offender", receivers=["pboc.fuzhou"]
    )
    assert (alert.status, alert.escalation_level) == (AlertStatus.ESCALATED, 1)
    assert alert.routes == ("office.banking_insurance", "eic", "pboc.fuzhou")
    cases.repo.session.commit()
    assert outbox_kinds(pipeline)[2:] == [
        ("office.banking_insurance", "updated"),
        ("eic", "updated"),
        ("pboc.fuzhou", "updated"),
    ]


def test_escalating_to_an_undeclared_receiver_fails(cases: CaseWorkflow, opened: str) -> None:
    with pytest.raises(ValueError, match="unknown receivers \\['nobody'\\]"):
        cases.escalate(opened, actor="x", receivers=["nobody"])


def test_resolve_by_a_person_is_delivered(
    pipeline: AlertPipeline, cases: CaseWorkflow, opened: str, clock: Clock
) -> None:
    alert = cases.resolve(opened, actor="li.na", comment="lender repaid the excess interest")
    assert alert.status is AlertStatus.RESOLVED
    assert alert.resolved_at == clock.now
    assert alert.revision == 2
    cases.repo.session.commit()
    assert [k for _, k in outbox_kinds(pipeline)] == ["opened", "opened", "resolved", "resolved"]


def test_resolved_alert_cannot_be_acknowledged(cases: CaseWorkflow, opened: str) -> None:
    cases.resolve(opened, actor="a")
    with pytest.raises(
        InvalidTransition, match=r"cannot mark alert .* acknowledged: it is resolved"
    ):
        cases.acknowledge(opened, actor="b")


def test_false_positive_is_kept_and_suppressed(cases: CaseWorkflow, opened: str) -> None:
    alert = cases.mark_false_positive(opened, actor="li.na", comment="test loan")
    assert alert.false_positive is True
    assert alert.status is AlertStatus.SUPPRESSED


def test_false_positive_can_be_marked_after_resolution(cases: CaseWorkflow, opened: str) -> None:
    cases.resolve(opened, actor="a")
    alert = cases.mark_false_positive(opened, actor="b")
    assert (alert.false_positive, alert.status) == (True, AlertStatus.RESOLVED)


def test_suppressed_alert_absorbs_repeats_without_deliveries(
    pipeline: AlertPipeline, finding: FindingFactory, opened: str, clock: Clock
) -> None:
    with Session(writer(pipeline.engine)) as session, session.begin():
        CaseWorkflow(session, routing=pipeline.routing, clock=clock).suppress(opened, actor="a")
    [change] = pipeline.handle(finding(minutes=1, event_ids=("e2",), severity=Severity.CRITICAL))
    assert change.alert.alert_id == opened
    assert change.alert.status is AlertStatus.SUPPRESSED
    assert len(outbox_kinds(pipeline)) == 2


def test_unknown_alert_is_not_found(cases: CaseWorkflow) -> None:
    with pytest.raises(AlertNotFound, match="no alert 'al-missing'"):
        cases.acknowledge("al-missing", actor="a")


# -- escalation timers -----------------------------------------------------------------------
def test_unacknowledged_alert_escalates_after_each_level(
    pipeline: AlertPipeline, opened: str, clock: Clock
) -> None:
    clock.now += timedelta(hours=4)
    assert pipeline.tick() == []
    clock.now += timedelta(seconds=1)
    [first] = pipeline.tick()
    assert (first.kind, first.alert.escalation_level) == ("updated", 1)
    assert first.alert.status is AlertStatus.ESCALATED
    assert first.alert.routes[-1] == "office.general"
    clock.now += timedelta(hours=20)
    [second] = pipeline.tick()
    assert second.alert.escalation_level == 2
    assert second.alert.routes[-1] == "coordination"
    assert pipeline.tick() == []


def test_late_tick_catches_up_every_level(
    pipeline: AlertPipeline, opened: str, clock: Clock
) -> None:
    clock.now += timedelta(days=3)
    changes = pipeline.tick()
    assert [c.alert.escalation_level for c in changes] == [1, 2]


def test_acknowledged_alert_does_not_escalate(
    pipeline: AlertPipeline, cases: CaseWorkflow, opened: str, clock: Clock
) -> None:
    cases.acknowledge(opened, actor="a")
    cases.repo.session.commit()
    clock.now += timedelta(days=3)
    assert pipeline.tick() == []


def test_escalation_is_in_the_audit_trail(
    pipeline: AlertPipeline, opened: str, clock: Clock
) -> None:
    clock.now += timedelta(hours=5)
    pipeline.tick()
    with Session(pipeline.engine) as session:
        entry = CaseWorkflow(session, routing=pipeline.routing).history(opened)[-1]
    assert (entry.action, entry.actor) == ("escalated", "fenghuo")
    assert entry.detail["level"] == 1
    assert entry.detail["receivers_added"] == ["office.general"]
    assert entry.at > T0
