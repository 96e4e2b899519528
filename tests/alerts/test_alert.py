"""The Alert's CloudEvents form against the contract."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from alerts import Alert, AlertChange
from alerts.dedup import open_alert, resolve
from models import Category, EntityType, Feed
from models.contract import contract_errors
from tests.alerts.conftest import T0, FindingFactory


def alert_of(finding: FindingFactory, **changes: object) -> Alert:
    built = open_alert(finding(**changes), event_ids=("e1",), max_event_ids=10, now=T0)
    return replace(built, routes=("office.banking_insurance", "eic"))


@pytest.mark.parametrize("kind", ["opened", "updated", "resolved"])
def test_cloudevent_is_valid_against_the_alert_contract(finding: FindingFactory, kind: str) -> None:
    alert = alert_of(finding)
    if kind == "resolved":
        alert = resolve(alert, at=T0 + timedelta(hours=1), now=T0)
    doc = alert.to_cloudevent(kind)  # type: ignore[arg-type]
    assert contract_errors("alert", doc) == []
    assert doc["type"] == f"fenghuo.alert.{kind}"


def test_cloudevent_names_feed_source_and_entity_subject(finding: FindingFactory) -> None:
    doc = alert_of(finding).to_cloudevent("opened")
    assert doc["source"] == "/fenghuo/stream/loans"
    assert doc["subject"] == "L-0001"
    assert doc["data"]["dedup_key"] == "usurious_rate:FJ-MC-0007:L-0001"


def test_alert_without_institution_omits_the_optional_fields(finding: FindingFactory) -> None:
    alert = alert_of(
        finding,
        category=Category.MODEL_DRIFT,
        feed=Feed.SYSTEM,
        entity_type=EntityType.MODEL,
        entity_id="default_risk",
        institution_id=None,
        institution_type=None,
        region_code=None,
    )
    doc = alert.to_cloudevent("opened")
    assert contract_errors("alert", doc) == []
    assert not {"institution_id", "institution_type", "region_code"} & set(doc["data"])


def test_each_change_is_a_new_cloudevent_id(finding: FindingFactory) -> None:
    alert = alert_of(finding)
    closed = resolve(alert, at=T0, now=T0)
    assert alert.to_cloudevent("opened")["id"] != closed.to_cloudevent("resolved")["id"]


def test_resolved_cloudevent_time_is_the_resolution_time(finding: FindingFactory) -> None:
    closed = resolve(alert_of(finding), at=T0 + timedelta(hours=2), now=T0)
    assert closed.to_cloudevent("resolved")["time"] == (T0 + timedelta(hours=2)).isoformat()


def test_change_carries_the_dedup_key_and_its_cloudevent(finding: FindingFactory) -> None:
    change = AlertChange("opened", alert_of(finding))
    assert change.dedup_key == change.alert.dedup_key
    assert change.cloudevent() == change.alert.to_cloudevent("opened")
