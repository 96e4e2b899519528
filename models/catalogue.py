"""The full detector catalogue: one place that builds the engine the worker and backtest run."""

from __future__ import annotations

from collections.abc import Sequence

from models.detector import Detector
from models.engine import RiskEngine
from models.escalation import COMPOSITE_DETECTORS
from models.network import NETWORK_DETECTORS
from models.params import DetectorParams
from models.rules import RULE_DETECTORS
from models.stats import STATISTICAL_DETECTORS


def rule_based_detectors(params: DetectorParams) -> list[Detector]:
    """Every non-ML detector, configured with ``params``."""
    classes = [*RULE_DETECTORS, *STATISTICAL_DETECTORS, *NETWORK_DETECTORS, *COMPOSITE_DETECTORS]
    return [cls(params=params) for cls in classes]


def build_engine(
    params: DetectorParams | None = None, *, extra: Sequence[Detector] = ()
) -> RiskEngine:
    """The engine with the whole catalogue; ``extra`` adds ML detectors built from artifacts."""
    params = params if params is not None else DetectorParams()
    return RiskEngine(detectors=[*rule_based_detectors(params), *extra])
