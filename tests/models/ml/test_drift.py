"""model_drift: PSI ~0 on the training distribution, large on a shifted one, with findings."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from models import Category, EntityType, Feed
from models.ml import FEATURE_NAMES, DriftMonitor, DriftReference, psi
from models.ml.drift import bin_counts, bin_edges
from models.ml.features import FEATURE_INDEX

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def _table(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    X = rng.normal(size=(n, len(FEATURE_NAMES)))
    X[:, FEATURE_INDEX["annual_rate"]] += shift
    return X


def test_psi_is_near_zero_on_the_same_distribution() -> None:
    rng = np.random.default_rng(0)
    train, live = rng.normal(size=5000), rng.normal(size=5000)
    edges = bin_edges(train)
    assert psi(bin_counts(train, edges), bin_counts(live, edges)) < 0.01


def test_psi_is_large_on_a_shifted_distribution() -> None:
    rng = np.random.default_rng(0)
    train, live = rng.normal(size=5000), rng.normal(loc=1.0, size=5000)
    edges = bin_edges(train)
    assert psi(bin_counts(train, edges), bin_counts(live, edges)) > 0.5


def test_discrete_feature_bins_collapse_ties() -> None:
    values = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 3], dtype=float)
    edges = bin_edges(values)
    assert list(edges) == [0.0, 1.0, 2.0]
    assert list(bin_counts(values, edges)) == [6.0, 2.0, 1.0, 1.0]


def _monitor(rng: np.random.Generator) -> DriftMonitor:
    X = _table(rng, 4000)
    reference = DriftReference.from_training(X, {"default_risk": rng.uniform(size=4000)})
    return DriftMonitor(reference=reference, level=0.25, min_samples=1000, model_version="v1")


def test_monitor_raises_model_drift_when_an_input_shifts() -> None:
    rng = np.random.default_rng(1)
    monitor = _monitor(rng)
    monitor.observe("default_risk", _table(rng, 2000, shift=1.5), rng.uniform(size=2000))
    findings = monitor.check(NOW)
    assert monitor.psi["default_risk"]["annual_rate"] > 0.25
    assert monitor.psi["default_risk"]["score"] < 0.05
    [finding] = findings
    assert finding.category is Category.MODEL_DRIFT
    assert (finding.feed, finding.entity_type, finding.entity_id) == (
        Feed.SYSTEM,
        EntityType.MODEL,
        "default_risk",
    )
    assert finding.institution_id is None
    assert finding.evidence["drifted"] == ["annual_rate"]


def test_monitor_stays_quiet_on_the_training_distribution() -> None:
    rng = np.random.default_rng(2)
    monitor = _monitor(rng)
    monitor.observe("default_risk", _table(rng, 2000), rng.uniform(size=2000))
    assert monitor.check(NOW) == []
    assert max(monitor.psi["default_risk"].values()) < 0.05


def test_monitor_waits_for_a_full_window() -> None:
    rng = np.random.default_rng(3)
    monitor = _monitor(rng)
    monitor.observe("default_risk", _table(rng, 999, shift=3.0), rng.uniform(size=999))
    assert monitor.check(NOW) == []
    assert monitor.psi == {}


def test_drift_that_ends_clears_its_alert() -> None:
    rng = np.random.default_rng(4)
    monitor = _monitor(rng)
    monitor.observe("default_risk", _table(rng, 1000, shift=2.0), rng.uniform(size=1000))
    assert not monitor.check(NOW)[0].cleared
    monitor.observe("default_risk", _table(rng, 1000), rng.uniform(size=1000))
    [finding] = monitor.check(NOW)
    assert finding.cleared


def test_reference_round_trips_through_json() -> None:
    rng = np.random.default_rng(5)
    X = _table(rng, 500)
    reference = DriftReference.from_training(X, {"loan_anomaly": rng.uniform(size=500)})
    assert DriftReference.from_dict(reference.to_dict()) == reference


def test_nonpositive_level_is_refused() -> None:
    with pytest.raises(ValueError, match="drift level must be > 0, got 0"):
        DriftMonitor(reference=DriftReference(models={}), level=0)
