"""Scenario injection."""

from __future__ import annotations

import random
from typing import Any


def plan_scenarios(sim: Any, cfg: Any, duration: int, rng: random.Random) -> None:
    return None
