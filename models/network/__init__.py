"""Cross-entity detectors: guarantee graphs, trade graphs, borrowers across lenders."""

from models.detector import Detector

NETWORK_DETECTORS: list[type[Detector]] = []

__all__ = ["NETWORK_DETECTORS"]
