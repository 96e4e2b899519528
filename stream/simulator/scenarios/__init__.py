"""Risk scenarios injected into the simulated history, one injector per catalogue category.

``plan_scenarios`` places the configured mix (see ``_plan``); the injectors live in ``loans``,
``guarantees``, ``trades`` and ``institutions``; docs/simulator.md describes each scenario.
"""

from stream.simulator.scenarios._plan import ENTITY_TYPES, plan_scenarios

__all__ = ["ENTITY_TYPES", "plan_scenarios"]
