"""Reminders (repeat_interval) end to end on SQLite and PostgreSQL: the real pipeline's tick
queues them, the real dispatcher sends them to a real HTTP receiver, on a hand-moved clock."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import alerts.pipeline
from alerts import (
    AlertPipeline,
    AlertsConfig,
    CaseWorkflow,
    RoutingTree,
    Silences,
    StoreConfig,
    make_engine,
    writer,
)
from alerts.notify import DeliveryConfig, OutboxDispatcher
from alerts.store.tables import outbox
from models import Category, EntityType, Severity
from models.contract import contract_errors
from tests.alerts.conftest import Clock, FindingFactory
from tests.alerts.notify.conftest import Received, Receiver

HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def delivery(receiver: Receiver, **changes: Any) -> DeliveryConfig:
    """Webhooks for ``eic`` (4 h reminders) and ``office.planning`` (model review: 24 h)."""
    hook = {"url": receiver.url + "/hook", "secret": "s"}
    doc: dict[str, Any] = {
        "receivers": {"eic": {"webhooks": [hook]}, "office.planning": {"webhooks": [hook]}},
        "retry": {"max_attempts": 5, "initial": "10s", "max": "5m", "jitter": 0},
        "grouping": False,
    }
    doc.update(changes)
    return DeliveryConfig.model_validate(doc)


@pytest.fixture
def pipeline(config: AlertsConfig, clock: Clock) -> Iterator[AlertPipeline]:
    """The real pipeline on the parametrised store, without escalation timers (they notify
    too, which restarts the reminder clock: tested on their own below)."""
    built = AlertPipeline.from_config(config.model_copy(update={"escalation": []}), clock=clock)
    yield built
    built.close()


@pytest.fixture
def dispatcher(pipeline: AlertPipeline, receiver: Receiver, clock: Clock) -> OutboxDispatcher:
    return OutboxDispatcher(pipeline.engine, delivery(receiver), clock=clock)


Step = Callable[[timedelta], list[Received]]


@pytest.fixture
def step(
    pipeline: AlertPipeline, dispatcher: OutboxDispatcher, receiver: Receiver, clock: Clock
) -> Step:
    """Move the clock, tick, deliver once: the requests the receiver accepted meanwhile."""

    def advance(by: timedelta) -> list[Received]:
        before = len(receiver.accepted())
        clock.now += by
        pipeline.tick(clock.now)
        asyncio.run(dispatcher.run_once())
        return receiver.accepted()[before:]

    return advance


def reminders(received: list[Received]) -> list[tuple[str, int]]:
    """(CloudEvent id, reminder number) of the reminder events received."""
    return [
        (e["id"], e["fenghuorepeat"])
        for r in received
        for e in r.json()["events"]
        if "fenghuorepeat" in e
    ]


def cases(pipeline: AlertPipeline, clock: Clock, act: Callable[[CaseWorkflow], object]) -> None:
    with Session(writer(pipeline.engine)) as session, session.begin():
        act(CaseWorkflow(session, routing=pipeline.routing, clock=clock))


def opened(pipeline: AlertPipeline, finding: FindingFactory, step: Step, **changes: Any) -> str:
    """Open an alert and deliver its notification; returns its alert id."""
    [change] = pipeline.handle(finding(**changes))
    assert step(timedelta(0))
    return change.alert.alert_id


def reminder_rows(pipeline: AlertPipeline) -> list[Any]:
    with pipeline.engine.connect() as conn:
        query = select(outbox).where(outbox.c.repeat > 0).order_by(outbox.c.id)
        return list(conn.execute(query).all())


def test_open_alert_is_reminded_after_repeat_interval_and_not_before(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step
) -> None:
    alert_id = opened(pipeline, finding, step)
    assert step(4 * HOUR - SECOND) == []
    [got] = step(SECOND)
    doc = got.json()
    assert doc["repeat"] == 1
    assert reminders([got]) == [(f"{alert_id}.1", 1)]
    assert "重复提醒 第1次" in doc["summary"] and "Reminder #1" in doc["summary"]


def test_reminder_event_is_valid_against_the_alert_contract(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step
) -> None:
    opened(pipeline, finding, step)
    [got] = step(4 * HOUR)
    [event] = got.json()["events"]
    assert event["fenghuorepeat"] == 1
    assert contract_errors("alert", event) == []


def test_reminder_has_its_own_idempotency_key(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step, receiver: Receiver
) -> None:
    opened(pipeline, finding, step)
    step(4 * HOUR)
    keys = [r.headers["fenghuo-idempotency-key"] for r in receiver.accepted()]
    assert len(keys) == 2 and len(set(keys)) == 2


def test_reminders_repeat_every_interval_after_the_last_one(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step
) -> None:
    alert_id = opened(pipeline, finding, step)
    step(4 * HOUR + 10 * SECOND)  # the first reminder, 10 s late
    assert step(4 * HOUR - SECOND) == []
    assert reminders(step(SECOND)) == [(f"{alert_id}.1", 2)]


def test_model_review_route_reminds_after_24_hours(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step, clock: Clock
) -> None:
    drift = opened(
        pipeline,
        finding,
        step,
        category=Category.MODEL_DRIFT,
        entity_type=EntityType.MODEL,
        entity_id="loan_anomaly",
        event_ids=("d1",),
    )
    loan = opened(pipeline, finding, step)
    assert reminders(step(4 * HOUR)) == [(f"{loan}.1", 1)]  # the 4 h route
    cases(pipeline, clock, lambda c: c.acknowledge(loan, actor="zhang.wei"))
    assert step(20 * HOUR - SECOND) == []
    [got] = step(SECOND)
    assert got.json()["receiver"] == "office.planning"
    assert reminders([got]) == [(f"{drift}.1", 1)]


def test_acknowledged_alert_is_not_reminded(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step, clock: Clock
) -> None:
    alert_id = opened(pipeline, finding, step)
    cases(pipeline, clock, lambda c: c.acknowledge(alert_id, actor="zhang.wei"))
    assert step(4 * HOUR) == []
    assert step(20 * HOUR) == []


def test_acknowledged_then_escalated_alert_is_reminded_after_the_escalation(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step, clock: Clock
) -> None:
    alert_id = opened(pipeline, finding, step)
    cases(pipeline, clock, lambda c: c.acknowledge(alert_id, actor="zhang.wei"))
    step(HOUR)
    cases(pipeline, clock, lambda c: c.escalate(alert_id, actor="li.na", reason="no answer"))
    assert reminders(step(timedelta(0))) == []  # the escalation itself
    assert step(4 * HOUR - SECOND) == []
    assert reminders(step(SECOND)) == [(f"{alert_id}.3", 1)]


@pytest.mark.parametrize("action", ["suppress", "resolve"])
def test_suppressed_or_resolved_alert_is_not_reminded(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step, clock: Clock, action: str
) -> None:
    alert_id = opened(pipeline, finding, step)
    cases(pipeline, clock, lambda c: getattr(c, action)(alert_id, actor="zhang.wei"))
    step(timedelta(0))
    assert reminders(step(4 * HOUR)) == []
    assert reminders(step(24 * HOUR)) == []
    assert reminder_rows(pipeline) == []


def test_alert_resolved_by_a_cleared_finding_is_not_reminded(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step
) -> None:
    opened(pipeline, finding, step)
    pipeline.handle(finding(cleared=True, event_ids=("c1",), minutes=5))
    assert reminders(step(4 * HOUR)) == []
    assert reminder_rows(pipeline) == []


def test_silenced_alert_is_reminded_when_the_silence_ends(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step, clock: Clock
) -> None:
    alert_id = opened(pipeline, finding, step)
    with Session(writer(pipeline.engine)) as session, session.begin():
        Silences(session).snooze(
            "L-0001",
            until=clock.now + 6 * HOUR,
            created_by="zhang.wei",
            comment="lender visited on Monday",
            now=clock.now,
        )
    assert step(4 * HOUR) == []
    assert step(2 * HOUR - SECOND) == []
    assert reminders(step(SECOND)) == [(f"{alert_id}.1", 1)]


def test_inhibited_alert_is_not_reminded(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step
) -> None:
    loan = opened(pipeline, finding, step)
    licence = opened(
        pipeline,
        finding,
        step,
        category=Category.UNLICENSED_ACTIVITY,
        entity_type=EntityType.INSTITUTION,
        entity_id="FJ-MC-0007",
        event_ids=("u1",),
    )
    assert reminders(step(4 * HOUR)) == [(f"{licence}.1", 1)]
    assert loan not in {r.alert_id for r in reminder_rows(pipeline)}


def test_notified_change_restarts_the_clock(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step
) -> None:
    alert_id = opened(pipeline, finding, step)
    step(2 * HOUR)
    pipeline.handle(finding(severity=Severity.HIGH, event_ids=("e2",), minutes=120))
    assert reminders(step(timedelta(0))) == []  # the severity change itself
    assert step(4 * HOUR - SECOND) == []
    assert reminders(step(SECOND)) == [(f"{alert_id}.2", 1)]


def test_occurrences_without_notification_keep_the_clock_and_show_in_the_reminder(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step
) -> None:
    alert_id = opened(pipeline, finding, step)
    step(HOUR)
    assert pipeline.handle(finding(event_ids=("e2",), minutes=60))  # stored, not notified
    assert step(3 * HOUR) != []
    [row] = reminder_rows(pipeline)
    assert row.payload["id"] == f"{alert_id}.2"
    assert row.payload["type"] == "fenghuo.alert.updated"
    assert row.payload["data"]["occurrences"] == 2


def test_reminder_to_a_receiver_down_then_up_is_delivered_once(
    pipeline: AlertPipeline, finding: FindingFactory, step: Step, receiver: Receiver
) -> None:
    alert_id = opened(pipeline, finding, step)
    receiver.fail_first = 3
    got: list[Received] = []
    got += step(4 * HOUR)
    for _ in range(10):  # ticks keep running through the outage
        got += step(timedelta(minutes=1))
    assert len(receiver.requests) == 1 + 4  # the opening, 3 failures, the reminder
    assert reminders(got) == [(f"{alert_id}.1", 1)]
    assert len(reminder_rows(pipeline)) == 1


def test_two_dispatchers_racing_send_a_reminder_once(
    pipeline: AlertPipeline,
    finding: FindingFactory,
    step: Step,
    receiver: Receiver,
    clock: Clock,
    store_url: str,
) -> None:
    for n in range(6):
        opened(pipeline, finding, step, entity_id=f"L-{n}", event_ids=(f"e{n}",))
    clock.now += 4 * HOUR
    pipeline.tick(clock.now)
    engines = [make_engine(StoreConfig(url=store_url, migrate=False)) for _ in range(2)]
    racers = [OutboxDispatcher(e, delivery(receiver, batch_size=2), clock=clock) for e in engines]

    async def race() -> None:
        for _ in range(4):
            await asyncio.gather(*(r.run_once() for r in racers))

    try:
        asyncio.run(race())
    finally:
        for e in engines:
            e.dispose()
    sent = reminders(receiver.accepted())
    assert len(sent) == 6 and len(set(sent)) == 6


def test_two_ticks_racing_queue_each_reminder_once(
    pipeline: AlertPipeline,
    finding: FindingFactory,
    step: Step,
    clock: Clock,
    config: AlertsConfig,
) -> None:
    for n in range(20):
        opened(pipeline, finding, step, entity_id=f"L-{n}", event_ids=(f"e{n}",))
    clock.now += 4 * HOUR
    quiet = config.model_copy(update={"escalation": []})
    racers = [AlertPipeline.from_config(quiet, clock=clock) for _ in range(2)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def tick(racer: AlertPipeline) -> None:
        start.wait()
        try:
            racer.remind(clock.now)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=tick, args=(r,)) for r in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for racer in racers:
        racer.close()
    assert errors == []
    rows = reminder_rows(pipeline)
    assert len(rows) == 20 and len({r.alert_id for r in rows}) == 20


def test_reminders_of_one_group_go_as_one_notification(
    pipeline: AlertPipeline,
    finding: FindingFactory,
    receiver: Receiver,
    clock: Clock,
    routing: RoutingTree,
) -> None:
    grouped = OutboxDispatcher(
        pipeline.engine, delivery(receiver, grouping=True), routing=routing, clock=clock
    )
    ids = [
        c.alert.alert_id
        for n in range(3)
        for c in pipeline.handle(finding(entity_id=f"L-{n}", event_ids=(f"e{n}",)))
    ]

    def advance(by: timedelta) -> list[Received]:
        before = len(receiver.accepted())
        clock.now += by
        pipeline.tick(clock.now)
        asyncio.run(grouped.run_once())
        return receiver.accepted()[before:]

    [first] = advance(timedelta(seconds=30))  # group_wait
    assert len(first.json()["events"]) == 3
    [again] = advance(4 * HOUR)
    assert again.json()["repeat"] == 1
    assert sorted(reminders([again])) == sorted((f"{i}.1", 1) for i in ids)


def test_a_tick_reads_a_bounded_number_of_due_rows(
    pipeline: AlertPipeline,
    finding: FindingFactory,
    step: Step,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(7):
        opened(pipeline, finding, step, entity_id=f"L-{n}", event_ids=(f"e{n}",))
    monkeypatch.setattr(alerts.pipeline, "_TICK_BATCH", 2)
    monkeypatch.setattr(alerts.pipeline, "_REMIND_ROUNDS", 2)
    clock.now += 4 * HOUR
    assert [pipeline.remind(clock.now) for _ in range(3)] == [4, 3, 0]
