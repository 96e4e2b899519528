"""The pipeline: dedup under replays, resolve on cleared and on quiet period, outbox, metrics."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from alerts import (
    AlertFilter,
    AlertMetrics,
    AlertPipeline,
    AlertRepository,
    AlertsConfig,
    AlertStatus,
    StoreConfig,
)
from alerts.store.tables import alert_events, alerts, outbox
from models import Category, Severity
from models.contract import contract_errors
from tests.alerts.conftest import ROUTING_FILE, T0, Clock, FindingFactory


def stored(pipeline: AlertPipeline) -> list[dict[str, object]]:
    with Session(pipeline.engine) as session:
        return [dict(r._mapping) for r in session.execute(select(alerts))]


def outbox_rows(pipeline: AlertPipeline) -> list[tuple[str, str, int]]:
    query = select(outbox.c.receiver, outbox.c.kind, outbox.c.revision).order_by(outbox.c.id)
    with Session(pipeline.engine) as session:
        return [tuple(r) for r in session.execute(query)]  # type: ignore[misc]


def test_first_finding_opens_a_routed_alert(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    [change] = pipeline.handle(finding())
    assert change.kind == "opened"
    assert change.alert.routes == ("office.banking_insurance", "eic")
    assert change.dedup_key == "usurious_rate:FJ-MC-0007:L-0001"
    assert contract_errors("alert", change.cloudevent()) == []


def test_same_finding_twice_is_one_alert_with_one_occurrence(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    pipeline.handle(finding())
    assert pipeline.handle(finding()) == []
    [row] = stored(pipeline)
    assert row["occurrences"] == 1


def test_repeat_with_a_new_event_updates_the_open_alert(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    [opened] = pipeline.handle(finding())
    [updated] = pipeline.handle(finding(minutes=5, event_ids=("e2",)))
    assert updated.kind == "updated"
    assert updated.alert.alert_id == opened.alert.alert_id
    assert updated.alert.occurrences == 2
    assert updated.alert.last_seen == T0 + timedelta(minutes=5)
    assert len(stored(pipeline)) == 1


def test_finding_with_some_seen_event_ids_counts_once(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    pipeline.handle(finding(event_ids=("e1", "e2")))
    [updated] = pipeline.handle(finding(event_ids=("e2", "e3", "e4")))
    assert updated.alert.occurrences == 2
    assert updated.alert.event_ids == ("e1", "e2", "e3", "e4")


def test_event_id_sample_is_bounded_but_every_event_id_is_kept(
    memory_config: AlertsConfig, finding: FindingFactory
) -> None:
    pipeline = AlertPipeline.from_config(memory_config.model_copy(update={"max_event_ids": 4}))
    for i in range(10):
        pipeline.handle(finding(minutes=i, event_ids=(f"e{i}",)))
    [row] = stored(pipeline)
    assert row["event_ids"] == ["e0", "e1", "e8", "e9"]
    assert row["occurrences"] == 10
    with Session(pipeline.engine) as session:
        assert AlertRepository(session).event_ids_of(str(row["alert_id"]))[-1] == "e9"


def test_cleared_finding_resolves_the_open_alert(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    pipeline.handle(finding())
    [resolved] = pipeline.handle(finding(minutes=30, event_ids=("e9",), cleared=True))
    assert resolved.kind == "resolved"
    assert resolved.alert.status is AlertStatus.RESOLVED
    assert resolved.alert.resolved_at == T0 + timedelta(minutes=30)
    assert contract_errors("alert", resolved.cloudevent()) == []


def test_cleared_finding_with_nothing_open_changes_nothing(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    assert pipeline.handle(finding(cleared=True)) == []
    assert stored(pipeline) == []


def test_finding_after_resolve_opens_a_new_alert(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    [first] = pipeline.handle(finding())
    pipeline.handle(finding(minutes=1, event_ids=("c1",), cleared=True))
    [second] = pipeline.handle(finding(minutes=2, event_ids=("e2",)))
    assert second.kind == "opened"
    assert second.alert.alert_id != first.alert.alert_id
    assert second.alert.occurrences == 1


def test_quiet_period_resolves_on_the_event_clock(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    pipeline.handle(finding())
    other = finding(entity_id="L-0002", minutes=24 * 60 + 1, event_ids=("x1",))
    pipeline.handle(other)
    [resolved] = pipeline.tick()
    assert resolved.kind == "resolved"
    assert resolved.alert.entity_id == "L-0001"
    assert resolved.alert.resolved_at == T0 + timedelta(hours=24)


def test_alert_quiet_for_exactly_the_quiet_period_stays_open(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    pipeline.handle(finding())
    pipeline.handle(finding(entity_id="L-0002", minutes=24 * 60, event_ids=("x1",)))
    assert pipeline.tick() == []


def test_repeat_after_the_quiet_period_resolves_and_opens_anew(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    [first] = pipeline.handle(finding())
    changes = pipeline.handle(finding(minutes=25 * 60, event_ids=("e2",)))
    assert [c.kind for c in changes] == ["resolved", "opened"]
    assert changes[0].alert.alert_id == first.alert.alert_id
    assert changes[1].alert.alert_id != first.alert.alert_id


def test_standing_breach_stays_open_through_a_quiet_spell(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    """A guarantor silent over a weekend is still over its leverage limit: no resolve, no reopen."""
    breach = {"category": Category.GUARANTEE_LEVERAGE, "entity_id": "FJ-GT-0031"}
    [opened] = pipeline.handle(finding(**breach))
    pipeline.handle(finding(entity_id="L-0002", minutes=3 * 24 * 60, event_ids=("x1",)))
    assert pipeline.tick() == []
    [again] = pipeline.handle(finding(**breach, minutes=3 * 24 * 60, event_ids=("e2",)))
    assert again.kind == "updated"
    assert again.alert.alert_id == opened.alert.alert_id


def test_standing_breach_resolves_when_its_detector_clears_it(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    breach = {"category": Category.GUARANTEE_LEVERAGE, "entity_id": "FJ-GT-0031"}
    pipeline.handle(finding(**breach))
    [cleared] = pipeline.handle(finding(**breach, minutes=5, event_ids=("c1",), cleared=True))
    assert cleared.kind == "resolved"


def test_quiet_period_on_the_wall_clock_follows_tick_now(
    memory_config: AlertsConfig, finding: FindingFactory, clock: Clock
) -> None:
    config = memory_config.model_copy(update={"quiet_clock": "wall"})
    pipeline = AlertPipeline.from_config(config, clock=clock)
    pipeline.handle(finding())
    assert pipeline.tick(T0 + timedelta(hours=23)) == []
    [resolved] = pipeline.tick(T0 + timedelta(hours=25))
    assert resolved.alert.resolved_at == T0 + timedelta(hours=24)


def test_event_clock_resumes_from_the_store_after_a_restart(
    tmp_path: object, finding: FindingFactory
) -> None:
    url = f"sqlite:///{tmp_path}/alerts.db"
    config = AlertsConfig(store=StoreConfig(url=url), routing_file=ROUTING_FILE)
    first = AlertPipeline.from_config(config)
    first.handle(finding())
    first.handle(finding(entity_id="L-0002", minutes=25 * 60, event_ids=("x1",)))
    first.close()
    again = AlertPipeline.from_config(config)
    assert [c.alert.entity_id for c in again.tick()] == ["L-0001"]
    again.close()


def test_opening_queues_one_delivery_per_receiver(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    pipeline.handle(finding())
    assert outbox_rows(pipeline) == [
        ("office.banking_insurance", "opened", 1),
        ("eic", "opened", 1),
    ]


def test_repeat_at_the_same_severity_queues_nothing(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    pipeline.handle(finding())
    pipeline.handle(finding(minutes=1, event_ids=("e2",)))
    assert len(outbox_rows(pipeline)) == 2


def test_raised_severity_reroutes_and_notifies_every_receiver(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    pipeline.handle(finding())
    [updated] = pipeline.handle(finding(minutes=1, event_ids=("e2",), severity=Severity.HIGH))
    assert updated.alert.routes == ("office.banking_insurance", "eic", "coordination")
    assert outbox_rows(pipeline)[2:] == [
        ("office.banking_insurance", "updated", 2),
        ("eic", "updated", 2),
        ("coordination", "updated", 2),
    ]


def test_resolution_is_delivered_to_every_receiver(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    pipeline.handle(finding())
    pipeline.handle(finding(minutes=1, event_ids=("c1",), cleared=True))
    assert [r[1] for r in outbox_rows(pipeline)] == ["opened", "opened", "resolved", "resolved"]


def test_outbox_off_queues_nothing(memory_config: AlertsConfig, finding: FindingFactory) -> None:
    pipeline = AlertPipeline.from_config(memory_config.model_copy(update={"outbox": False}))
    pipeline.handle(finding())
    assert outbox_rows(pipeline) == []


def test_audit_trail_records_opening_and_resolution(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    [opened] = pipeline.handle(finding())
    pipeline.handle(finding(minutes=1, event_ids=("c1",), cleared=True))
    with Session(pipeline.engine) as session:
        trail = AlertRepository(session).history(opened.alert.alert_id)
    assert [(h.action, h.actor, h.from_status, h.to_status) for h in trail] == [
        ("opened", "fenghuo", None, "open"),
        ("resolved", "fenghuo", "open", "resolved"),
    ]


def test_metrics_count_opened_deduplicated_and_resolved(
    memory_config: AlertsConfig, finding: FindingFactory
) -> None:
    registry = CollectorRegistry()
    pipeline = AlertPipeline.from_config(memory_config, metrics=AlertMetrics(registry))
    pipeline.handle(finding())
    pipeline.handle(finding())
    pipeline.handle(finding(minutes=1, event_ids=("e2",)))
    pipeline.handle(finding(minutes=2, event_ids=("c1",), cleared=True))
    labels = {"category": "usurious_rate"}
    value = registry.get_sample_value
    assert value("fenghuo_alerts_opened_total", {**labels, "severity": "medium"}) == 1
    assert value("fenghuo_alerts_deduplicated_total", labels) == 1
    assert value("fenghuo_alerts_resolved_total", labels) == 1


def test_batch_applies_findings_in_order(pipeline: AlertPipeline, finding: FindingFactory) -> None:
    changes = pipeline.handle_batch(
        [finding(), finding(minutes=1, event_ids=("e2",)), finding(minutes=2, event_ids=("e2",))]
    )
    assert [c.kind for c in changes] == ["opened", "updated"]


# -- both databases --------------------------------------------------------------------------
def test_replayed_stream_changes_nothing(config: AlertsConfig, finding: FindingFactory) -> None:
    stream = [
        finding(),
        finding(minutes=1, event_ids=("e2",), severity=Severity.HIGH),
        finding(minutes=2, event_ids=("c1",), cleared=True),
        finding(minutes=3, event_ids=("e3",)),
        finding(entity_id="L-0002", minutes=4, event_ids=("x1",), category=Category.DEFAULT_RISK),
    ]
    pipeline = AlertPipeline.from_config(config)
    first = [c.kind for f in stream for c in pipeline.handle(f)]
    assert first == ["opened", "updated", "resolved", "opened", "opened"]
    before = stored(pipeline), outbox_rows(pipeline)
    assert [c for f in stream for c in pipeline.handle(f)] == []
    assert (stored(pipeline), outbox_rows(pipeline)) == before
    pipeline.close()


def test_concurrent_writers_of_one_key_make_one_alert(
    config: AlertsConfig, finding: FindingFactory
) -> None:
    pipelines = [AlertPipeline.from_config(config) for _ in range(4)]
    barrier = threading.Barrier(len(pipelines))
    errors: list[BaseException] = []

    def work(i: int, pipeline: AlertPipeline) -> None:
        try:
            barrier.wait()
            for j in range(5):
                pipeline.handle(finding(minutes=j, event_ids=(f"e{i}-{j}",)))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, p)) for i, p in enumerate(pipelines)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    [row] = stored(pipelines[0])
    assert row["occurrences"] == 20
    with Session(pipelines[0].engine) as session:
        assert session.scalar(select(func.count()).select_from(alert_events)) == 20
        repo = AlertRepository(session)
        assert repo.count(AlertFilter(status=["open"])) == 1
    for pipeline in pipelines:
        pipeline.close()


def test_tick_returns_its_resolutions_when_the_reminder_pass_fails(
    pipeline: AlertPipeline, finding: FindingFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def store_away(repo: object, now: object) -> tuple[int, int]:
        raise OperationalError("SELECT … FROM outbox", {}, Exception("server closed"))

    monkeypatch.setattr(pipeline, "_remind", store_away)
    pipeline.handle(finding())
    pipeline.handle(finding(entity_id="L-0002", minutes=24 * 60 + 1, event_ids=("x1",)))
    [resolved] = pipeline.tick()
    assert resolved.kind == "resolved" and resolved.alert.entity_id == "L-0001"
