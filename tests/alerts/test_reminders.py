"""BatchInhibition: the reminder pass's inhibition check agrees with the per-alert one."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from alerts import AlertPipeline
from alerts.reminders import BatchInhibition
from alerts.store import AlertRepository
from models import Category, EntityType
from tests.alerts.conftest import FindingFactory


@pytest.mark.parametrize("max_sources", [0, 1000], ids=["asked per alert", "read once"])
@pytest.mark.parametrize(
    ("institution", "inhibited"), [("FJ-MC-0007", True), ("FJ-MC-0008", False)]
)
def test_loan_alert_is_inhibited_only_by_its_own_institutions_licence(
    pipeline: AlertPipeline,
    finding: FindingFactory,
    max_sources: int,
    institution: str,
    inhibited: bool,
) -> None:
    [loan] = pipeline.handle(finding(institution_id=institution))
    pipeline.handle(
        finding(
            category=Category.UNLICENSED_ACTIVITY,
            entity_type=EntityType.INSTITUTION,
            entity_id="FJ-MC-0007",
            event_ids=("u1",),
        )
    )
    with Session(pipeline.engine) as session:
        repo = AlertRepository(session)
        check = BatchInhibition(repo, pipeline.routing.inhibit_rules, max_sources=max_sources)
        assert check.inhibited(loan.alert) is inhibited


def test_institution_level_alert_is_never_inhibited(
    pipeline: AlertPipeline, finding: FindingFactory
) -> None:
    [licence] = pipeline.handle(
        finding(
            category=Category.UNLICENSED_ACTIVITY,
            entity_type=EntityType.INSTITUTION,
            entity_id="FJ-MC-0007",
            event_ids=("u1",),
        )
    )
    with Session(pipeline.engine) as session:
        check = BatchInhibition(AlertRepository(session), pipeline.routing.inhibit_rules)
        assert check.inhibited(licence.alert) is False
