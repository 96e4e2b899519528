from __future__ import annotations

from datetime import datetime

import pytest

from models.categories import Category
from stream.simulator import INJECTED_CATEGORIES, SimulatorConfig


def test_every_catalogue_category_but_model_drift_is_injected() -> None:
    assert set(INJECTED_CATEGORIES) == set(Category) - {Category.MODEL_DRIFT}


def test_a_count_applies_to_every_category() -> None:
    assert set(SimulatorConfig(scenarios=2).scenario_mix().values()) == {2}


def test_a_mix_names_only_its_categories() -> None:
    mix = SimulatorConfig(scenarios={"wash_trade": 4}).scenario_mix()
    assert mix == {Category.WASH_TRADE: 4}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"events": 0}, "events must be >= 1"),
        ({"duration": -1.0}, "duration must be > 0"),
        ({"institutions": 10}, "institutions must be >= 60"),
        ({"start": datetime(2026, 11, 2)}, "UTC offset"),
        ({"scenarios": {"model_drift": 1}}, "cannot inject"),
        ({"scenarios": {"no_such_thing": 1}}, "unknown scenario category"),
        ({"scenarios": -1}, "scenarios must be >= 0"),
    ],
)
def test_invalid_config_is_refused_naming_the_value(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SimulatorConfig(**kwargs)  # type: ignore[arg-type]
