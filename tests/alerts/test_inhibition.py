"""Inhibition: a licence problem mutes the institution's transaction-level alerts."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import AlertPipeline, RoutingConfigError, RoutingTree
from alerts.store import AlertRepository
from alerts.store.tables import outbox
from models import Category, EntityType, Finding
from tests.alerts.conftest import FindingFactory


def receivers_told(pipeline: AlertPipeline, alert_id: str) -> list[str]:
    with Session(pipeline.engine) as session:
        query = select(outbox.c.receiver).where(outbox.c.alert_id == alert_id).order_by(outbox.c.id)
        return list(session.scalars(query))


def unlicensed(finding: FindingFactory, **changes: object) -> Finding:
    fields: dict[str, object] = {
        "category": Category.UNLICENSED_ACTIVITY,
        "entity_type": EntityType.INSTITUTION,
        "entity_id": "FJ-MC-0007",
        "event_ids": ("u1",),
    }
    return finding(**{**fields, **changes})


def test_unlicensed_institution_mutes_its_loan_alerts(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    [source] = pipeline.handle(unlicensed(finding))
    [target] = pipeline.handle(finding(minutes=1))
    assert receivers_told(pipeline, source.alert.alert_id) == ["office.banking_insurance", "eic"]
    assert receivers_told(pipeline, target.alert.alert_id) == []
    with Session(pipeline.engine) as session:
        [entry] = AlertRepository(session).history(target.alert.alert_id)
    assert entry.detail["muted_by"] == f"inhibited by {source.alert.alert_id} (no licence)"


def test_other_institutions_are_not_muted(pipeline: AlertPipeline, finding: FindingFactory) -> None:
    pipeline.handle(unlicensed(finding))
    [target] = pipeline.handle(finding(institution_id="FJ-MC-0008", event_ids=("o1",)))
    assert len(receivers_told(pipeline, target.alert.alert_id)) == 2


def test_institution_level_alerts_are_not_muted(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    pipeline.handle(unlicensed(finding))
    spike = finding(
        category=Category.DELINQUENCY_SPIKE,
        entity_type=EntityType.INSTITUTION,
        entity_id="FJ-MC-0007",
        event_ids=("s1",),
    )
    [target] = pipeline.handle(spike)
    assert len(receivers_told(pipeline, target.alert.alert_id)) == 2


def test_resolved_source_mutes_nothing(pipeline: AlertPipeline, finding: FindingFactory) -> None:
    pipeline.handle(unlicensed(finding))
    pipeline.handle(unlicensed(finding, event_ids=("u2",), cleared=True))
    [target] = pipeline.handle(finding(minutes=2))
    assert len(receivers_told(pipeline, target.alert.alert_id)) == 2


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"source_matchers": [], "target_matchers": ['feed="loans"']}, "source_matchers"),
        (
            {"source_matchers": ['category="x"'], "target_matchers": ['feed="loans"']},
            r"inhibit_rules\[0\]: matcher .*unknown category 'x'",
        ),
        (
            {
                "name": "r",
                "source_matchers": ['feed="loans"'],
                "target_matchers": ['feed="loans"'],
                "equal": ["borrower"],
            },
            r"inhibit_rules\[0\] \(r\): cannot compare label 'borrower'",
        ),
    ],
)
def test_bad_inhibit_rule_is_rejected(rule: dict[str, object], message: str) -> None:
    doc = {"receivers": [{"id": "a"}], "route": {"receivers": ["a"]}, "inhibit_rules": [rule]}
    with pytest.raises(RoutingConfigError, match=message):
        RoutingTree.from_dict(doc)
