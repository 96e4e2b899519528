"""ML risk scores: features, loan anomaly, default risk, drift, artifacts.

The worker builds its ML detectors with ``build_ml_detectors(load_configured_bundle(config))``
and a ``DriftMonitor`` from the same bundle; training and file scoring use ``models.ml.train``
and the same feature code (``loan_features`` / ``advance``).
"""

from models.ml.anomaly import LoanAnomaly, LoanAnomalyModel
from models.ml.artifacts import (
    ModelBundle,
    current_version,
    list_versions,
    load_bundle,
    read_metadata,
    save_bundle,
    set_current,
    shipped_model_dir,
)
from models.ml.config import MLConfig
from models.ml.default_risk import DefaultRisk, DefaultRiskModel, logistic_baseline
from models.ml.drift import KEY_FEATURES, DriftMonitor, DriftReference, psi
from models.ml.features import FEATURE_NAMES, advance, history_features, loan_features
from models.ml.scoring import BorrowerModelDetector, ScoreObserver
from models.ml.serving import build_drift_monitor, build_ml_detectors, load_configured_bundle

__all__ = [
    "FEATURE_NAMES",
    "KEY_FEATURES",
    "BorrowerModelDetector",
    "DefaultRisk",
    "DefaultRiskModel",
    "DriftMonitor",
    "DriftReference",
    "LoanAnomaly",
    "LoanAnomalyModel",
    "MLConfig",
    "ModelBundle",
    "ScoreObserver",
    "advance",
    "build_drift_monitor",
    "build_ml_detectors",
    "current_version",
    "history_features",
    "list_versions",
    "load_bundle",
    "load_configured_bundle",
    "loan_features",
    "logistic_baseline",
    "psi",
    "read_metadata",
    "save_bundle",
    "set_current",
    "shipped_model_dir",
]
