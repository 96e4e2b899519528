"""Regression: a standing breach (a book over its limit) is injected at most once per entity.

Injecting one again at a lender already in breach computed the loans needed to breach as a
negative amount, and the simulator wrote loans with a negative principal (seed 777001).
"""

from __future__ import annotations

from collections import Counter

from models.contract import contract_errors
from stream.simulator import Simulation, SimulatorConfig
from stream.simulator.scenarios._plan import STANDING


def test_standing_breaches_never_share_an_entity_and_every_record_is_valid() -> None:
    sim = Simulation(SimulatorConfig(seed=777001, duration=45 * 86400, scenarios=8))
    invalid = [r for r in sim.records() if contract_errors(r.topic, r.value)]
    assert invalid == []
    standing = Counter(
        (str(label.category), label.entity_id or label.institution_id)
        for label in sim.labels
        if str(label.category) in STANDING
    )
    assert standing, "the run injected no standing breach"
    assert max(standing.values()) == 1
