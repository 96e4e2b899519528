"""The model that ships with Fenghuo loads under this code's feature list and scores."""

from __future__ import annotations

import numpy as np

from models.ml import FEATURE_NAMES, MLConfig, load_configured_bundle, shipped_model_dir
from models.ml.artifacts import current_version


def test_shipped_model_loads_with_the_current_features() -> None:
    bundle = load_configured_bundle(MLConfig())
    assert bundle.version == current_version(shipped_model_dir())
    assert bundle.metadata["feature_names"] == list(FEATURE_NAMES)
    p = bundle.default_risk.default_probability(np.tile(bundle.default_risk.medians_, (3, 1)))
    assert np.all((p > 0) & (p < 1))


def test_shipped_model_stays_small() -> None:
    sizes = [f.stat().st_size for f in shipped_model_dir().rglob("*") if f.is_file()]
    assert sum(sizes) < 5_000_000
