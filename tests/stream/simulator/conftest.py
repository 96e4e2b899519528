"""One small simulated history per session, shared by the simulator tests (it takes seconds)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from models.history import HistoryRecord, Label
from stream.simulator import Simulation, SimulatorConfig

DAY = 86_400


@dataclass(frozen=True)
class History:
    config: SimulatorConfig
    records: list[HistoryRecord]
    labels: list[Label]


def simulate(config: SimulatorConfig) -> History:
    sim = Simulation(config)
    records = list(sim.records())
    return History(config, records, sim.labels)


@pytest.fixture(scope="session")
def history() -> History:
    """60 institutions over 24 simulated days, each category injected once."""
    return simulate(SimulatorConfig(seed=11, institutions=60, duration=24 * DAY, scenarios=1))


@pytest.fixture(scope="session")
def background() -> History:
    """The same sector with no scenario at all: the background alone."""
    return simulate(SimulatorConfig(seed=12, institutions=60, duration=24 * DAY, scenarios=0))
