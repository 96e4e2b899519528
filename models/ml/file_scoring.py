"""Scores for every loan event of a history, so analysts can evaluate a model on their own
labelled data. The rows come from the same feature walk the detectors use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from models.events import FeedEvent, Loan
from models.ml.artifacts import ModelBundle
from models.ml.features import history_features

#: Rows per scikit-learn call: large enough to amortise it, small enough to stream.
CHUNK = 2048


def score_events(
    events: Iterable[FeedEvent], bundle: ModelBundle, *, chunk: int = CHUNK
) -> Iterator[dict[str, Any]]:
    """``{"event_id", "anomaly_score", "default_probability", "model_version"}`` per loan event."""
    pending: list[tuple[Loan, np.ndarray]] = []
    for item in history_features(events):
        pending.append(item)
        if len(pending) >= chunk:
            yield from _score(pending, bundle)
            pending = []
    if pending:
        yield from _score(pending, bundle)


def _score(items: list[tuple[Loan, np.ndarray]], bundle: ModelBundle) -> Iterator[dict[str, Any]]:
    X = np.vstack([row for _, row in items])
    anomaly = bundle.anomaly.anomaly_score(X)
    default = bundle.default_risk.default_probability(X)
    for (event, _), a, p in zip(items, anomaly, default, strict=True):
        yield {
            "event_id": event.event_id,
            "anomaly_score": round(float(a), 6),
            "default_probability": round(float(p), 6),
            "model_version": bundle.version,
        }
