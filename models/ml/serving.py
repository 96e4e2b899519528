"""Turns a registry version into the live detectors and the drift monitor the worker runs.

Switching versions means building new detectors from another bundle: the borrower state they
read is model-independent (raw history, not features), so nothing is lost in the switch.
"""

from __future__ import annotations

from pathlib import Path

from models.detector import Detector
from models.ml.anomaly import LoanAnomaly
from models.ml.artifacts import ModelBundle, load_bundle, shipped_model_dir
from models.ml.config import MLConfig
from models.ml.default_risk import DefaultRisk
from models.ml.drift import DriftMonitor, DriftReference
from models.ml.scoring import ScoreObserver
from models.params import DetectorParams


def load_configured_bundle(config: MLConfig) -> ModelBundle:
    """The bundle ``config`` names (shipped registry unless ``model_dir`` is set)."""
    model_dir = Path(config.model_dir) if config.model_dir is not None else shipped_model_dir()
    return load_bundle(model_dir, config.version)


def build_ml_detectors(
    bundle: ModelBundle,
    *,
    config: MLConfig | None = None,
    params: DetectorParams | None = None,
    observer: ScoreObserver | None = None,
) -> list[Detector]:
    """``[LoanAnomaly, DefaultRisk]`` serving ``bundle``; pass to ``build_engine(extra=...)``."""
    config = config if config is not None else MLConfig()
    return [
        LoanAnomaly(
            params=params,
            model=bundle.anomaly,
            model_version=bundle.version,
            threshold=config.anomaly_threshold,
            top_features=config.top_features,
            observer=observer,
            book_report_hours=config.book_report_hours,
        ),
        DefaultRisk(
            params=params,
            model=bundle.default_risk,
            model_version=bundle.version,
            threshold=config.default_threshold,
            top_features=config.top_features,
            observer=observer,
            book_report_hours=config.book_report_hours,
        ),
    ]


def build_drift_monitor(
    bundle: ModelBundle, *, config: MLConfig | None = None, params: DetectorParams | None = None
) -> DriftMonitor:
    """A monitor against the bundle's training window; give ``monitor.observe`` as observer."""
    config = config if config is not None else MLConfig()
    return DriftMonitor(
        reference=DriftReference.from_dict(bundle.metadata["drift_reference"]),
        level=config.drift_psi_level,
        min_samples=config.drift_min_samples,
        model_version=bundle.version,
        params_version=(params or DetectorParams()).version,
    )
