"""Regulatory rules: each checks one limit of domain.md on one event."""

from models.detector import Detector

#: Rule detector classes, in the order the engine runs them.
RULE_DETECTORS: list[type[Detector]] = []

__all__ = ["RULE_DETECTORS"]
