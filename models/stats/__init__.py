"""Statistical detectors: change against an entity's own baseline."""

from models.detector import Detector
from models.stats.price import PriceManipulation
from models.stats.spikes import CompensationSpike, DelinquencySpike, LendingSurge, VolumeAnomaly

STATISTICAL_DETECTORS: list[type[Detector]] = [
    DelinquencySpike,
    CompensationSpike,
    LendingSurge,
    VolumeAnomaly,
    PriceManipulation,
]

__all__ = [
    "STATISTICAL_DETECTORS",
    "CompensationSpike",
    "DelinquencySpike",
    "LendingSurge",
    "PriceManipulation",
    "VolumeAnomaly",
]
