"""Training entry point: a history file in, a registered model version out.

Rows are the new business (``originated``/``extended``) of the history, with the features the
live detectors would have computed at that moment. A row's label is 1 when its loan later gets
a ``default`` or ``written_off`` event within the history (loans still running at the end are
censored as 0, which makes the last weeks look safer than they are: the out-of-time test window
states its positives so a reader can judge). Models are fitted on the earlier part of the
history and measured on the later part, against a logistic-regression baseline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import InvalidEvent, InvalidParameter
from models.events import NEW_LOAN_BUSINESS, FeedEvent
from models.history import BadLine, read_history, to_event
from models.ml.anomaly import LoanAnomalyModel
from models.ml.artifacts import ModelBundle, file_sha256, save_bundle
from models.ml.default_risk import DefaultRiskModel
from models.ml.drift import DriftReference
from models.ml.evaluation import best_threshold, binary_metrics, out_of_time_split
from models.ml.features import FEATURE_NAMES, history_features

log = logging.getLogger(__name__)

DEFAULT_EVENTS = frozenset({"default", "written_off"})
Progress = Callable[[int], None]


@dataclass
class TrainingTable:
    """New-business rows of a history with their labels and event times (epoch seconds)."""

    X: np.ndarray
    y: np.ndarray
    times: np.ndarray
    event_ids: list[str]
    data_sha256: str
    source: str
    skipped_lines: int = 0


def history_events(
    path: Path, *, progress: Progress | None = None, skipped: list[int] | None = None
) -> Iterator[FeedEvent]:
    """Valid events of a history in file order; bad lines are counted and logged, not fatal."""
    bad = 0
    for line in read_history(path):
        if progress is not None:
            progress(1)
        if isinstance(line, BadLine):
            bad += 1
            log.warning("history line %d skipped: %s", line.line_no, line.reason)
            continue
        try:
            yield to_event(line)
        except InvalidEvent as exc:
            bad += 1
            log.warning("history event skipped: %s", exc.reason)
    if skipped is not None:
        skipped.append(bad)


def build_training_table(path: Path, *, progress: Progress | None = None) -> TrainingTable:
    """Walk a history once with the live feature code; label each new loan by its fate."""
    rows: list[np.ndarray] = []
    times: list[float] = []
    ids: list[str] = []
    loans: list[str] = []
    defaulted_at: dict[str, float] = {}
    skipped: list[int] = []
    for event, row in history_features(history_events(path, progress=progress, skipped=skipped)):
        t = event.event_time.timestamp()
        if event.event_type in DEFAULT_EVENTS:
            defaulted_at.setdefault(event.loan_id, t)
        if event.event_type in NEW_LOAN_BUSINESS:
            rows.append(row)
            times.append(t)
            ids.append(event.event_id)
            loans.append(event.loan_id)
    y = np.array(
        [int(defaulted_at.get(loan, -np.inf) >= t) for loan, t in zip(loans, times, strict=True)]
    )
    X = np.vstack(rows) if rows else np.zeros((0, len(FEATURE_NAMES)))
    return TrainingTable(
        X=X,
        y=y,
        times=np.asarray(times),
        event_ids=ids,
        data_sha256=file_sha256(Path(path)),
        source=Path(path).name,
        skipped_lines=sum(skipped),
    )


@dataclass
class TrainingResult:
    anomaly: LoanAnomalyModel
    default_risk: DefaultRiskModel
    metadata: dict[str, Any]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def fit_models(
    table: TrainingTable, *, test_fraction: float = 0.3, random_state: int = 0
) -> TrainingResult:
    """Fit both models on the earlier window; measure them and the baseline on the later one."""
    if len(table.y) < 20:
        raise InvalidParameter(f"need at least 20 new loans to train, got {len(table.y)}")
    train, test = out_of_time_split(table.times, test_fraction)
    X_tr, y_tr, X_te, y_te = table.X[train], table.y[train], table.X[test], table.y[test]
    log.info("training on %d loans (%d defaults), testing on %d", len(y_tr), y_tr.sum(), len(y_te))
    default_risk = DefaultRiskModel(random_state=random_state).fit(X_tr, y_tr)
    anomaly = LoanAnomalyModel(random_state=random_state).fit(X_tr)

    baseline_threshold = best_threshold(y_tr, default_risk.baseline_probability(X_tr))
    anomaly_test = anomaly.anomaly_score(X_te)
    metrics = {
        "default_risk": binary_metrics(
            y_te, default_risk.default_probability(X_te), default_risk.threshold_
        ),
        "logistic_baseline": binary_metrics(
            y_te, default_risk.baseline_probability(X_te), baseline_threshold
        ),
        "loan_anomaly": binary_metrics(y_te, anomaly_test, anomaly.threshold_),
    }
    reference = DriftReference.from_training(
        X_tr,
        {
            "loan_anomaly": anomaly.anomaly_score(X_tr),
            "default_risk": default_risk.default_probability(X_tr),
        },
    )
    metadata = {
        "source": table.source,
        "data_sha256": table.data_sha256,
        "training_window": {
            "start": _iso(table.times[train].min()),
            "end": _iso(table.times[train].max()),
        },
        "test_window": {
            "start": _iso(table.times[test].min()),
            "end": _iso(table.times[test].max()),
        },
        "rows": {
            "train": len(y_tr),
            "train_defaults": int(y_tr.sum()),
            "test": len(y_te),
            "test_defaults": int(y_te.sum()),
        },
        "label": "loan gets a default or written_off event later in the history",
        "random_state": random_state,
        "thresholds": {
            "default_risk": default_risk.threshold_,
            "loan_anomaly": anomaly.threshold_,
            "loan_anomaly_contamination": anomaly.contamination_,
            "logistic_baseline": baseline_threshold,
        },
        "metrics": metrics,
        "drift_reference": reference.to_dict(),
    }
    return TrainingResult(anomaly=anomaly, default_risk=default_risk, metadata=metadata)


def new_version_name(data_sha256: str) -> str:
    """``v<UTC timestamp>-<data hash prefix>``: sortable and traceable to its data."""
    return f"v{datetime.now(UTC):%Y%m%d%H%M%S}-{data_sha256[:8]}"


def train_and_register(
    history: Path,
    *,
    model_dir: Path,
    version: str | None = None,
    test_fraction: float = 0.3,
    random_state: int = 0,
    make_current: bool = True,
    progress: Progress | None = None,
) -> tuple[str, TrainingResult]:
    """Build the table, fit, and save a new registry version; returns its name and result."""
    table = build_training_table(history, progress=progress)
    result = fit_models(table, test_fraction=test_fraction, random_state=random_state)
    name = version or new_version_name(table.data_sha256)
    save_bundle(
        model_dir,
        name,
        anomaly=result.anomaly,
        default_risk=result.default_risk,
        metadata=result.metadata,
        make_current=make_current,
    )
    return name, result


__all__ = [
    "ModelBundle",
    "TrainingResult",
    "TrainingTable",
    "build_training_table",
    "fit_models",
    "train_and_register",
]
