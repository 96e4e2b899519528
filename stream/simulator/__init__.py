"""The feed simulator: a synthetic Fujian local financial sector with labelled risk scenarios."""

from stream.simulator.config import INJECTED_CATEGORIES, SimulatorConfig
from stream.simulator.simulation import Simulation

__all__ = ["INJECTED_CATEGORIES", "Simulation", "SimulatorConfig"]
