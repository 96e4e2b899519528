from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from alerts.evaluate import ScoredAlert, evaluate, format_table, matches, unique_alerts
from models import Category
from models.history import Label

T0 = datetime.fromisoformat("2026-11-26T09:00:00+08:00")


def _label(**kw: object) -> Label:
    base: dict[str, object] = {
        "scenario_id": "s-1",
        "category": Category.GUARANTEE_CIRCLE,
        "entity_type": "guarantee_network",
        "entity_id": "E-1",
        "institution_id": "FJ-GT-0031",
        "start": T0,
        "end": T0 + timedelta(hours=2),
        "event_ids": ("ev-1", "ev-2"),
    }
    base.update(kw)
    return Label(**base)  # type: ignore[arg-type]


def _alert(**kw: object) -> ScoredAlert:
    base: dict[str, object] = {
        "alert_id": "al-1",
        "category": "guarantee_circle",
        "entity_id": "E-9",
        "institution_id": "FJ-XX-0001",
        "event_ids": frozenset({"ev-9"}),
        "first_seen": T0 + timedelta(hours=1),
    }
    base.update(kw)
    return ScoredAlert(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"entity_id": "E-1"},
        {"institution_id": "FJ-GT-0031"},
        {"entity_id": "FJ-GT-0031"},
        {"event_ids": frozenset({"ev-2"})},
    ],
)
def test_alert_matches_on_any_shared_id(change: dict[str, object]) -> None:
    assert matches(_alert(**change), _label())


def test_alert_without_shared_id_does_not_match() -> None:
    assert not matches(_alert(), _label())


def test_empty_ids_never_match() -> None:
    assert not matches(_alert(institution_id=""), _label(institution_id=""))


def test_alert_after_grace_does_not_match() -> None:
    late = _alert(entity_id="E-1", first_seen=T0 + timedelta(hours=2, minutes=1))
    assert matches(late, _label(), grace=timedelta(minutes=1))
    assert not matches(late, _label(), grace=timedelta(seconds=59))


def test_alert_before_start_does_not_match() -> None:
    assert not matches(_alert(entity_id="E-1", first_seen=T0 - timedelta(seconds=1)), _label())


def test_model_drift_matches_on_category_and_window_alone() -> None:
    label = _label(category=Category.MODEL_DRIFT, entity_id="", institution_id="", event_ids=())
    assert matches(_alert(category="model_drift"), label)


def test_scores_count_recall_precision_and_median_delay() -> None:
    labels = [_label(), _label(scenario_id="s-2", entity_id="E-2", institution_id="")]
    alerts = [
        _alert(alert_id="a", entity_id="E-1", first_seen=T0 + timedelta(minutes=10)),
        _alert(alert_id="b", entity_id="E-1", first_seen=T0 + timedelta(minutes=30)),
        _alert(alert_id="c"),
    ]
    (score,) = evaluate(alerts, labels)
    assert (score.scenarios, score.alerts) == (2, 3)
    assert score.recall == 0.5
    assert score.precision == pytest.approx(2 / 3)
    assert score.median_delay_seconds == 600


def test_category_without_alerts_has_zero_recall_and_no_precision() -> None:
    (score,) = evaluate([], [_label()])
    assert score.recall == 0.0
    assert score.precision is None
    assert "guarantee_circle | 1 | 0 | 0.000 | –" in format_table([score])


def test_unique_alerts_keeps_one_entry_per_alert_id() -> None:
    data = {
        "alert_id": "al-1",
        "category": "usurious_rate",
        "entity_id": "L-1",
        "institution_id": "FJ-MC-0007",
        "event_ids": ["e1"],
        "first_seen": T0.isoformat(),
    }
    events = [{"type": "fenghuo.alert.opened", "data": data}, {"data": {**data, "event_ids": []}}]
    (alert,) = unique_alerts(events)
    assert alert.event_ids == frozenset({"e1"})
