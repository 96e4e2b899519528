"""loan_anomaly: calibrated scores, data-driven contamination, explanations that point right."""

from __future__ import annotations

import numpy as np
import pytest

from models.errors import InvalidParameter
from models.ml import LoanAnomalyModel


@pytest.fixture(scope="module")
def fitted() -> tuple[LoanAnomalyModel, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(400, 4))
    return LoanAnomalyModel(n_estimators=50, random_state=0).fit(X), X


def test_calibrated_scores_lie_in_unit_interval(
    fitted: tuple[LoanAnomalyModel, np.ndarray],
) -> None:
    model, _ = fitted
    probe = np.random.default_rng(1).normal(scale=5.0, size=(200, 4))
    scores = model.anomaly_score(probe)
    assert scores.min() >= 0.0
    assert scores.max() <= 1.0


def test_training_scores_are_roughly_uniform(fitted: tuple[LoanAnomalyModel, np.ndarray]) -> None:
    model, X = fitted
    assert np.median(model.anomaly_score(X)) == pytest.approx(0.5, abs=0.02)


def test_far_outlier_scores_above_threshold(fitted: tuple[LoanAnomalyModel, np.ndarray]) -> None:
    model, _ = fitted
    assert model.anomaly_score(np.array([[9.0, 9.0, 9.0, 9.0]]))[0] >= model.threshold_


def test_contamination_comes_from_the_data_within_bounds(
    fitted: tuple[LoanAnomalyModel, np.ndarray],
) -> None:
    model, _ = fitted
    low, high = model.contamination_range
    assert low <= model.contamination_ <= high
    assert model.threshold_ == pytest.approx(1.0 - model.contamination_)


def test_outlying_feature_gets_the_largest_positive_contribution(
    fitted: tuple[LoanAnomalyModel, np.ndarray],
) -> None:
    model, _ = fitted
    contributions = model.contributions(np.array([[0.0, 0.0, 8.0, 0.0]]))[0]
    assert int(np.argmax(contributions)) == 2
    assert contributions[2] > 0


@pytest.mark.parametrize("bounds", [(0.0, 0.1), (0.2, 0.1), (0.01, 0.5)])
def test_invalid_contamination_range_is_refused(bounds: tuple[float, float]) -> None:
    X = np.zeros((20, 2))
    with pytest.raises(InvalidParameter, match="contamination_range"):
        LoanAnomalyModel(contamination_range=bounds).fit(X)


def test_same_seed_gives_the_same_scores() -> None:
    X = np.random.default_rng(3).normal(size=(200, 3))
    a = LoanAnomalyModel(n_estimators=20, random_state=7).fit(X).anomaly_score(X)
    b = LoanAnomalyModel(n_estimators=20, random_state=7).fit(X).anomaly_score(X)
    np.testing.assert_array_equal(a, b)


def test_fast_scoring_equals_scikit_learns(fitted: tuple[LoanAnomalyModel, np.ndarray]) -> None:
    model, _ = fitted
    probe = np.random.default_rng(9).normal(scale=3.0, size=(300, 4))
    np.testing.assert_allclose(model.raw_score(probe), -model.forest_.score_samples(probe))


def test_compiled_forest_is_not_persisted(fitted: tuple[LoanAnomalyModel, np.ndarray]) -> None:
    model, X = fitted
    model.anomaly_score(X[:5])
    assert "_flat" not in model.__getstate__()
