"""``loan_anomaly``: an IsolationForest over the loan feature table, calibrated to [0, 1].

Raw isolation scores mean little to an analyst, so the score reported is the empirical CDF of
the training scores: 0.99 means "stranger than 99 % of the loans the model was trained on".
The contamination (the share of training loans treated as anomalous) is read from the data:
the share of training scores beyond the upper Tukey fence, clipped to a sane range.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest
from sklearn.utils.validation import check_array, check_is_fitted

from models.categories import Category, Severity
from models.errors import InvalidParameter
from models.ml._flat_forest import FlatForest
from models.ml.explain import ablation_contributions
from models.ml.scoring import BorrowerModelDetector

__all__ = ["LoanAnomaly", "LoanAnomalyModel"]


class LoanAnomalyModel(BaseEstimator):  # type: ignore[misc]
    """IsolationForest with a data-driven contamination and ECDF-calibrated scores.

    Parameters
    ----------
    n_estimators : int, default=100
        Trees in the forest.
    max_samples : int, default=256
        Rows drawn per tree (the IsolationForest default; small trees keep the artifact small).
    fence : float, default=1.5
        Tukey fence multiplier on the training scores' IQR that sets ``contamination_``.
    contamination_range : tuple of float, default=(0.001, 0.02)
        Bounds on ``contamination_`` so a degenerate window cannot silence or flood alerts.
    n_quantiles : int, default=513
        Points of the stored training-score CDF.
    random_state : int or None, default=None
        Seed of the forest.

    Attributes
    ----------
    forest_ : IsolationForest
    quantiles_ : ndarray of shape (n_quantiles,)
        Training raw scores at evenly spaced probabilities: the calibration map.
    contamination_ : float
    threshold_ : float
        Calibrated score at or above which a loan is anomalous: ``1 - contamination_``.
    medians_ : ndarray of shape (n_features,)
        The typical loan, the reference of explanations.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(300, 3))
    >>> model = LoanAnomalyModel(n_estimators=20, random_state=0).fit(X)
    >>> bool(model.anomaly_score(np.array([[8.0, 8.0, 8.0]]))[0] > 0.99)
    True
    """

    def __init__(
        self,
        *,
        n_estimators: int = 100,
        max_samples: int = 256,
        fence: float = 1.5,
        contamination_range: tuple[float, float] = (0.001, 0.02),
        n_quantiles: int = 513,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.fence = fence
        self.contamination_range = contamination_range
        self.n_quantiles = n_quantiles
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> LoanAnomalyModel:
        X = check_array(X, dtype=np.float64)
        low, high = self.contamination_range
        if not 0.0 < low <= high < 0.5:
            raise InvalidParameter(
                f"contamination_range must satisfy 0 < low <= high < 0.5, got {low, high}"
            )
        if self.n_quantiles < 2:
            raise InvalidParameter(f"n_quantiles must be >= 2, got {self.n_quantiles}")
        self.__dict__.pop("_flat", None)
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, X.shape[0]),
            random_state=self.random_state,
            n_jobs=1,
        ).fit(X)
        raw = -self.forest_.score_samples(X)
        q1, q3 = np.percentile(raw, [25, 75])
        beyond = float(np.mean(raw > q3 + self.fence * (q3 - q1)))
        self.contamination_ = float(np.clip(beyond, low, high))
        self.quantiles_ = np.quantile(raw, np.linspace(0.0, 1.0, self.n_quantiles))
        self.threshold_ = 1.0 - self.contamination_
        self.medians_ = np.median(X, axis=0)
        self.n_features_in_ = X.shape[1]
        return self

    def raw_score(self, X: Any) -> np.ndarray:
        """Isolation score, higher = more anomalous (the negated ``score_samples``)."""
        check_is_fitted(self, "forest_")
        X = check_array(X, dtype=np.float64)
        flat = self._flat_forest()
        if flat is None:
            return -self.forest_.score_samples(X)  # type: ignore[no-any-return]
        return flat.raw_score(X)

    def _flat_forest(self) -> FlatForest | None:
        """The forest compiled for fast scoring; derived from ``forest_``, never persisted."""
        if "_flat" not in self.__dict__:
            self.__dict__["_flat"] = FlatForest.from_forest(self.forest_, self.n_features_in_)
        flat: FlatForest | None = self.__dict__["_flat"]
        return flat

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = dict(super().__getstate__())
        state.pop("_flat", None)
        return state

    def anomaly_score(self, X: Any) -> np.ndarray:
        """Calibrated score in [0, 1]: the share of training loans less anomalous than each row."""
        raw = self.raw_score(X)
        probs = np.linspace(0.0, 1.0, self.n_quantiles)
        calibrated: np.ndarray = np.clip(np.interp(raw, self.quantiles_, probs), 0.0, 1.0)
        return calibrated

    def contributions(self, X: Any) -> np.ndarray:
        """Signed contributions to the raw isolation score, by ablation to the medians."""
        X = check_array(X, dtype=np.float64)
        return ablation_contributions(self.raw_score, X, self.medians_)


class LoanAnomaly(BorrowerModelDetector):
    """``loan_anomaly``: a new loan unlike the population the model was trained on.

    Scores new business (``originated``, ``extended``) against ``LoanAnomalyModel``; the
    alert threshold is the model's ``threshold_`` unless ``threshold`` overrides it.
    See ``BorrowerModelDetector`` for the parameters.
    """

    categories: ClassVar[tuple[Category, ...]] = (Category.LOAN_ANOMALY,)
    name = "loan_anomaly"
    namespace = "ml_loan_anomaly_borrowers"

    def _scores(self, X: np.ndarray) -> np.ndarray:
        return self._fitted_model().anomaly_score(X)  # type: ignore[no-any-return]

    def _severity(self, score: float, threshold: float) -> Severity:
        extreme = 1.0 - (1.0 - threshold) / 10.0
        return Severity.HIGH if score >= extreme else Severity.MEDIUM
