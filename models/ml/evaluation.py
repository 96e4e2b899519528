"""The metrics every model report states, and the out-of-time split they are measured on."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
)

from models.errors import InvalidParameter


def out_of_time_split(times: np.ndarray, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the earlier rows (train) and the later ``test_fraction`` (test), by time."""
    if not 0.0 < test_fraction < 1.0:
        raise InvalidParameter(f"test_fraction must be in (0, 1), got {test_fraction}")
    order = np.argsort(times, kind="stable")
    cut = round(len(order) * (1.0 - test_fraction))
    return np.sort(order[:cut]), np.sort(order[cut:])


def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    """AUROC, PR-AUC, Brier score, and alert rate / precision / recall at ``threshold``."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=np.float64)
    alerts = p >= threshold
    both = y.min() != y.max()
    true_alerts = int(np.sum(alerts & (y == 1)))
    return {
        "rows": len(y),
        "positives": int(y.sum()),
        "auroc": float(roc_auc_score(y, p)) if both else None,
        "pr_auc": float(average_precision_score(y, p)) if both else None,
        "brier": float(brier_score_loss(y, np.clip(p, 0.0, 1.0))),
        "threshold": float(threshold),
        "alert_rate": float(alerts.mean()) if len(y) else 0.0,
        "precision": true_alerts / int(alerts.sum()) if alerts.any() else None,
        "recall": true_alerts / int(y.sum()) if y.any() else None,
    }


def best_threshold(y: np.ndarray, p: np.ndarray, beta: float = 1.0) -> float:
    """The probability threshold that maximises F-beta of ``p`` against ``y``."""
    precision, recall, thresholds = precision_recall_curve(y, p)
    b2 = beta * beta
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (1 + b2) * precision * recall / (b2 * precision + recall)
    f = np.nan_to_num(f[:-1])
    return float(thresholds[int(np.argmax(f))])


def alert_threshold(
    y: np.ndarray, p: np.ndarray, *, beta: float = 1.0, max_alert_rate: float = 1.0
) -> float:
    """The F-beta threshold, raised until at most ``max_alert_rate`` of ``p`` would alert.

    The same rule sets the model's and the baseline's threshold, so their alert rates compare.
    """
    budget = float(np.quantile(p, 1.0 - max_alert_rate, method="higher"))
    return max(best_threshold(y, p, beta), budget)
