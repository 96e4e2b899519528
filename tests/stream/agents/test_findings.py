"""raise_alerts alone: findings become contract-valid alerts, once per dedup key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from models import Category, DetectorKind, DetectorRef, EntityType, Feed, Finding, Severity
from models.contract import contract_errors
from tests.stream.agents.kit import Worker, WorkerFactory, run_agent

WHEN = datetime(2026, 11, 26, 10, 15, tzinfo=timezone(timedelta(hours=8)))


def finding(event_id: str = "loan-1") -> Finding:
    return Finding(
        category=Category.USURIOUS_RATE,
        severity=Severity.HIGH,
        score=0.6,
        feed=Feed.LOANS,
        entity_type=EntityType.LOAN,
        entity_id="L-1",
        institution_id="FJ-MC-0007",
        event_time=WHEN,
        detector=DetectorRef(DetectorKind.RULE, "usurious_rate", "1"),
        evidence={"annual_rate": 0.152, "limit": 0.12},
        event_ids=(event_id,),
        institution_type="microcredit",
        region_code="350500",
    )


@pytest.fixture
def worker(make_worker: WorkerFactory) -> Iterator[Worker]:
    made = make_worker()
    yield made
    made.ctx.alerts.close()


def feed(worker: Worker, *values: bytes) -> None:
    run_agent(worker, "raise_alerts", "findings", [(b"FJ-MC-0007", v) for v in values])


def test_a_finding_becomes_an_alert_keyed_by_its_dedup_key(worker: Worker) -> None:
    feed(worker, orjson.dumps(finding().to_dict()))

    [sent] = worker.alerts.sent
    alert = orjson.loads(sent["value"])
    assert sent["key"] == b"usurious_rate:FJ-MC-0007:L-1"
    assert alert["type"] == "fenghuo.alert.opened"
    assert contract_errors("alert", alert) == []


def test_a_repeated_finding_of_the_same_event_raises_nothing_new(worker: Worker) -> None:
    doc = orjson.dumps(finding().to_dict())

    feed(worker, doc, doc)

    assert [orjson.loads(m["value"])["type"] for m in worker.alerts.sent] == [
        "fenghuo.alert.opened"
    ]


def test_a_later_occurrence_updates_the_open_alert(worker: Worker) -> None:
    feed(worker, orjson.dumps(finding().to_dict()), orjson.dumps(finding("loan-2").to_dict()))

    kinds = [orjson.loads(m["value"])["type"] for m in worker.alerts.sent]
    assert kinds == ["fenghuo.alert.opened", "fenghuo.alert.updated"]


def test_a_message_that_is_not_a_finding_goes_to_the_findings_dead_letter_topic(
    worker: Worker,
) -> None:
    feed(worker, b'{"category": "usurious_rate"}', orjson.dumps(finding().to_dict()))

    [letter] = worker.dead_letters["findings"].sent
    assert dict(letter["headers"])["fenghuo-reason"].startswith(b"not a finding: KeyError")
    assert len(worker.alerts.sent) == 1
