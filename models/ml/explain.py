"""Signed feature contributions for ML findings, cheap enough to run on every alert.

Trees have no exact additive decomposition we can read cheaply, so each feature is ablated:
set to the training median (the "typical" loan) with the others unchanged, and the change in
the model's score is its contribution. For a linear model the same question has an exact
answer, ``coef * (x - median) / scale``, and those contributions sum to the score difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline


def ablation_contributions(
    score: Callable[[np.ndarray], np.ndarray], X: np.ndarray, reference: np.ndarray
) -> np.ndarray:
    """``score(x) - score(x with feature j set to reference[j])`` for every row and feature.

    One call to ``score`` on ``n * d`` rows, so a micro-batch of alerts costs one model call.
    """
    n, d = X.shape
    base = score(X)
    ablated = np.repeat(X, d, axis=0)
    rows = np.arange(n * d)
    ablated[rows, rows % d] = np.tile(reference, n)
    result: np.ndarray = base[:, None] - score(ablated).reshape(n, d)
    return result


def linear_contributions(pipeline: Pipeline, X: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Exact log-odds contributions of a ``StandardScaler -> LogisticRegression`` pipeline.

    Row sums equal ``decision_function(X) - decision_function(reference)``.
    """
    scaler, logit = pipeline[0], pipeline[-1]
    coef = logit.coef_.ravel() / scaler.scale_
    result: np.ndarray = (X - reference) * coef
    return result


def top_contributions(
    row: np.ndarray,
    contributions: np.ndarray,
    reference: np.ndarray,
    names: Sequence[str],
    *,
    top: int,
) -> tuple[dict[str, Any], ...]:
    """The ``top`` features by absolute contribution, each with its value and the typical one."""
    order = np.argsort(-np.abs(contributions), kind="stable")
    picked = [j for j in order[:top] if contributions[j] != 0.0]
    return tuple(
        {
            "feature": names[j],
            "value": round(float(row[j]), 6),
            "typical": round(float(reference[j]), 6),
            "contribution": round(float(contributions[j]), 6),
        }
        for j in picked
    )
