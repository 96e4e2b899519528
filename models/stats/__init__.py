"""Statistical detectors: change against an entity's own baseline."""

from models.detector import Detector

STATISTICAL_DETECTORS: list[type[Detector]] = []

__all__ = ["STATISTICAL_DETECTORS"]
