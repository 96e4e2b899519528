"""The alerts settings sections: defaults from domain.md, validation at start-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from alerts import AlertPipeline, AlertsConfig, EscalationLevel, RoutingConfigError, StoreConfig
from tests.alerts.conftest import ROUTING_FILE


def test_defaults() -> None:
    config = AlertsConfig()
    assert config.quiet_period == timedelta(hours=24)
    assert config.quiet_clock == "event"
    receivers = [level.receivers for level in config.escalation]
    assert receivers == [["office.general"], ["coordination"]]


def test_durations_read_from_iso_8601_like_env_values() -> None:
    assert AlertsConfig.model_validate({"quiet_period": "PT6H"}).quiet_period == timedelta(hours=6)


def test_escalation_levels_must_be_in_increasing_order() -> None:
    levels = [{"after": "PT4H", "receivers": ["a"]}, {"after": "PT1H", "receivers": ["b"]}]
    with pytest.raises(ValidationError, match="increasing 'after'"):
        AlertsConfig.model_validate({"escalation": levels})


def test_escalation_to_an_undeclared_receiver_stops_start_up() -> None:
    config = AlertsConfig(
        store=StoreConfig(url="sqlite://"),
        routing_file=ROUTING_FILE,
        escalation=[EscalationLevel(after=timedelta(hours=1), receivers=["nobody"])],
    )
    with pytest.raises(RoutingConfigError, match=r"level 1: unknown receivers \['nobody'\]"):
        AlertPipeline.from_config(config)
