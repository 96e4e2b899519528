"""Composite detectors over findings: institution_risk_escalation and regional_cluster."""

from __future__ import annotations

from models.detector import Detector

COMPOSITE_DETECTORS: list[type[Detector]] = []

__all__ = ["COMPOSITE_DETECTORS"]
