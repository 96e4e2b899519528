"""Explanations: exact for linear models, signed and additive where the model is additive."""

from __future__ import annotations

import numpy as np
import pytest

from models.ml import logistic_baseline
from models.ml.explain import ablation_contributions, linear_contributions, top_contributions
from models.ml.train import TrainingResult


def test_linear_contributions_sum_to_the_log_odds_difference() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] - X[:, 1] + rng.normal(scale=0.5, size=300) > 0).astype(int)
    pipeline = logistic_baseline(random_state=0).fit(X, y)
    reference = np.median(X, axis=0)
    contributions = linear_contributions(pipeline, X[:5], reference)
    expected = pipeline.decision_function(X[:5]) - pipeline.decision_function(reference[None, :])
    np.testing.assert_allclose(contributions.sum(axis=1), expected)
    assert contributions[:, 0] @ (X[:5, 0] - reference[0]) > 0  # positive coefficient
    assert contributions[:, 1] @ (X[:5, 1] - reference[1]) < 0  # negative coefficient


def test_ablation_is_exact_for_an_additive_score() -> None:
    weights = np.array([2.0, -1.0, 0.0])

    def score(X: np.ndarray) -> np.ndarray:
        return X @ weights

    X = np.array([[1.0, 1.0, 5.0], [-1.0, 2.0, 0.0]])
    contributions = ablation_contributions(score, X, np.zeros(3))
    np.testing.assert_allclose(contributions, X * weights)
    np.testing.assert_allclose(contributions.sum(axis=1), score(X))


def test_top_contributions_are_ordered_by_size_and_skip_zeros() -> None:
    row = np.array([1.0, 2.0, 3.0])
    picked = top_contributions(row, np.array([0.1, -0.5, 0.0]), np.zeros(3), ["a", "b", "c"], top=3)
    assert [p["feature"] for p in picked] == ["b", "a"]
    assert picked[0] == {"feature": "b", "value": 2.0, "typical": 0.0, "contribution": -0.5}


def test_default_model_explanation_signs_follow_the_risk(trained: TrainingResult) -> None:
    from models.ml.features import FEATURE_INDEX

    model = trained.default_risk
    row = model.medians_.copy()
    row[FEATURE_INDEX["rate_vs_type"]] = 0.06  # the crafted history prices risk into the rate
    contributions = model.contributions(row[None, :])[0]
    assert contributions[FEATURE_INDEX["rate_vs_type"]] > 0
    total = model.log_odds(row[None, :])[0] - model.log_odds(model.medians_[None, :])[0]
    assert contributions.sum() == pytest.approx(total, abs=1e-9)
