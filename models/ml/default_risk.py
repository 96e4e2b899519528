"""``default_risk``: the probability that a new loan later defaults.

A HistGradientBoostingClassifier scores the loan; its raw score is calibrated with Platt
scaling fitted on out-of-fold predictions (so calibration never sees its own training fit),
and the alert threshold is the one that maximises F-beta on those same out-of-fold
probabilities, within an alert budget. A logistic-regression baseline is fitted beside it on
the same rows, so every artifact carries the comparison that justifies the more complex model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y

from models.categories import Category, Severity
from models.errors import InvalidParameter
from models.ml._threads import single_thread
from models.ml.evaluation import alert_threshold
from models.ml.explain import ablation_contributions
from models.ml.scoring import BorrowerModelDetector

__all__ = ["DefaultRisk", "DefaultRiskModel", "logistic_baseline"]

_EPS = 1e-6


def logistic_baseline(*, random_state: int | None = None) -> Pipeline:
    """The baseline every default model is compared with: scaled logistic regression."""
    return make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=2000, random_state=random_state)
    )


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return np.log(p / (1.0 - p))


class DefaultRiskModel(BaseEstimator):  # type: ignore[misc]
    """Calibrated gradient boosting for the probability of default, with a logistic baseline.

    Parameters
    ----------
    max_iter : int, default=300
        Boosting iterations (early stopping cuts them on large tables).
    learning_rate : float, default=0.05
    max_leaf_nodes : int, default=7
        Small trees: on simulator histories deeper ones learn the history's own growth
        (every borrower starts unknown) and lose out of time.
    l2_regularization : float, default=1.0
    cv : int, default=3
        Folds of the out-of-fold predictions that fit the calibration and the threshold.
    beta : float, default=1.0
        The alert threshold maximises F-beta on out-of-fold probabilities (beta > 1 favours
        recall) ...
    max_alert_rate : float, default=0.05
        ... but is raised until at most this share of the training loans would alert: an alert
        budget, so a weak model cannot flood the analysts.
    random_state : int or None, default=None

    Attributes
    ----------
    estimator_ : HistGradientBoostingClassifier
        Fitted on all rows.
    calibrator_ : LogisticRegression
        Platt scaling of ``estimator_.decision_function``.
    baseline_ : Pipeline
        ``logistic_baseline`` fitted on the same rows.
    threshold_ : float
    medians_ : ndarray of shape (n_features,)
        The typical loan, the reference of explanations.
    base_rate_ : float
        Share of defaults in the training rows.
    """

    def __init__(
        self,
        *,
        max_iter: int = 300,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 7,
        l2_regularization: float = 1.0,
        cv: int = 3,
        beta: float = 1.0,
        max_alert_rate: float = 0.05,
        random_state: int | None = None,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.cv = cv
        self.beta = beta
        self.max_alert_rate = max_alert_rate
        self.random_state = random_state

    def _booster(self) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization,
            random_state=self.random_state,
        )

    def fit(self, X: Any, y: Any) -> DefaultRiskModel:
        with single_thread():
            return self._fit(X, y)

    def _fit(self, X: Any, y: Any) -> DefaultRiskModel:
        X, y = check_X_y(X, y, dtype=np.float64)
        y = y.astype(int)
        positives = int(y.sum())
        if positives < self.cv or len(y) - positives < self.cv:
            raise InvalidParameter(
                f"need at least cv={self.cv} defaults and non-defaults, got {positives} of {len(y)}"
            )
        if self.beta <= 0:
            raise InvalidParameter(f"beta must be > 0, got {self.beta}")
        if not 0.0 < self.max_alert_rate <= 1.0:
            raise InvalidParameter(f"max_alert_rate must be in (0, 1], got {self.max_alert_rate}")
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        oof = cross_val_predict(
            self._booster(), X, y, cv=folds, method="decision_function", n_jobs=1
        )
        self.calibrator_ = LogisticRegression(C=1e4).fit(oof.reshape(-1, 1), y)
        oof_p = self.calibrator_.predict_proba(oof.reshape(-1, 1))[:, 1]
        self.threshold_ = alert_threshold(
            y, oof_p, beta=self.beta, max_alert_rate=self.max_alert_rate
        )
        self.estimator_ = self._booster().fit(X, y)
        self.baseline_ = logistic_baseline(random_state=self.random_state).fit(X, y)
        self.medians_ = np.median(X, axis=0)
        self.base_rate_ = float(y.mean())
        self.n_features_in_ = X.shape[1]
        return self

    def default_probability(self, X: Any) -> np.ndarray:
        """Calibrated probability of default per row."""
        check_is_fitted(self, "estimator_")
        with single_thread():
            raw = self.estimator_.decision_function(check_array(X, dtype=np.float64))
        return self.calibrator_.predict_proba(raw.reshape(-1, 1))[:, 1]  # type: ignore[no-any-return]

    def predict_proba(self, X: Any) -> np.ndarray:
        p = self.default_probability(X)
        return np.column_stack([1.0 - p, p])

    def baseline_probability(self, X: Any) -> np.ndarray:
        """The logistic baseline's probability of default per row."""
        check_is_fitted(self, "baseline_")
        return self.baseline_.predict_proba(check_array(X, dtype=np.float64))[:, 1]  # type: ignore[no-any-return]

    def log_odds(self, X: Any) -> np.ndarray:
        return _logit(self.default_probability(X))

    def contributions(self, X: Any) -> np.ndarray:
        """Signed log-odds contributions, by ablation of each feature to the training median."""
        X = check_array(X, dtype=np.float64)
        return ablation_contributions(self.log_odds, X, self.medians_)


class DefaultRisk(BorrowerModelDetector):
    """``default_risk``: a new loan whose calibrated probability of default is high.

    Scores new business (``originated``, ``extended``); alerts at ``threshold`` or, when None,
    at the model's ``threshold_`` chosen at training. Severity is high from twice the threshold
    (and at least 0.5). See ``BorrowerModelDetector`` for the parameters.
    """

    categories: ClassVar[tuple[Category, ...]] = (Category.DEFAULT_RISK,)
    name = "default_risk"
    namespace = "ml_default_risk_borrowers"

    def _scores(self, X: np.ndarray) -> np.ndarray:
        return self._fitted_model().default_probability(X)  # type: ignore[no-any-return]

    def _severity(self, score: float, threshold: float) -> Severity:
        return Severity.HIGH if score >= max(0.5, 2.0 * threshold) else Severity.MEDIUM
