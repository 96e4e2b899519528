"""Training entry point: a history file in, a registered model version out.

Rows are the new business (``originated``/``extended``) of the history, with the features the
live detectors would have computed at that moment. A row's label is 1 when its loan gets a
``default`` or ``written_off`` event within ``performance_days`` after it (the usual "bad
within N days" definition). Rows closer than that to the end of the history cannot be labelled
yet and are left out, so loans still running are never mistaken for good ones. Models are
fitted on the earlier labelled rows and measured on the later ones, against a
logistic-regression baseline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone

from models.errors import InvalidEvent, InvalidParameter
from models.events import NEW_LOAN_BUSINESS, FeedEvent
from models.history import BadLine, read_history, to_event
from models.ml.anomaly import LoanAnomalyModel
from models.ml.artifacts import ModelBundle, file_sha256, save_bundle
from models.ml.default_risk import DefaultRiskModel
from models.ml.drift import DriftReference
from models.ml.evaluation import alert_threshold, binary_metrics, out_of_time_split
from models.ml.features import FEATURE_NAMES, history_features

log = logging.getLogger(__name__)

DEFAULT_EVENTS = frozenset({"default", "written_off"})
#: Follow-up a new loan needs before it can be labelled good or bad.
DEFAULT_PERFORMANCE_DAYS = 90.0
#: A history re-reports the existing book in its first hours (history-format.md).
DEFAULT_BOOK_HOURS = 6.0
Progress = Callable[[int], None]


@dataclass
class TrainingTable:
    """New-business rows of a history, when each happened and when its loan defaulted.

    ``times`` and ``default_times`` are epoch seconds (``inf``: no default in the history);
    ``end_time`` is the last event of the history.
    """

    X: np.ndarray
    times: np.ndarray
    default_times: np.ndarray
    end_time: float
    event_ids: list[str]
    data_sha256: str
    source: str
    skipped_lines: int = 0

    def labelled(
        self, performance_days: float, *, book_hours: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, y, times)`` of the rows observed for ``performance_days`` after them.

        Rows in the first ``book_hours`` of the history are the re-reported book, not new
        lending: their borrowers look unknown and their loans are already aged, so they are
        left out (their events still build the borrower state).
        """
        horizon = performance_days * 86_400.0
        keep = self.times <= self.end_time - horizon
        if book_hours > 0 and len(self.times):
            keep &= self.times >= self.times.min() + book_hours * 3_600.0
        delay = self.default_times[keep] - self.times[keep]
        y = ((delay >= 0) & (delay <= horizon)).astype(int)
        return self.X[keep], y, self.times[keep]


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
    """Walk a history file once with the live feature code (bad lines are skipped)."""
    skipped: list[int] = []
    table = table_from_events(
        history_events(path, progress=progress, skipped=skipped),
        data_sha256=file_sha256(Path(path)),
        source=Path(path).name,
    )
    table.skipped_lines = sum(skipped)
    return table


def table_from_events(
    events: Iterable[FeedEvent], *, data_sha256: str, source: str
) -> TrainingTable:
    """New-business rows of ``events`` (in history order) with their loans' default times."""
    rows: list[np.ndarray] = []
    times: list[float] = []
    ids: list[str] = []
    loans: list[str] = []
    defaulted_at: dict[str, float] = {}
    last = -np.inf
    for event, row in history_features(events):
        t = event.event_time.timestamp()
        last = max(last, t)
        if event.event_type in DEFAULT_EVENTS:
            defaulted_at.setdefault(event.loan_id, t)
        if event.event_type in NEW_LOAN_BUSINESS:
            rows.append(row)
            times.append(t)
            ids.append(event.event_id)
            loans.append(event.loan_id)
    X = np.vstack(rows) if rows else np.zeros((0, len(FEATURE_NAMES)))
    return TrainingTable(
        X=X,
        times=np.asarray(times, dtype=np.float64),
        default_times=np.array([defaulted_at.get(loan, np.inf) for loan in loans]),
        end_time=last,
        event_ids=ids,
        data_sha256=data_sha256,
        source=source,
    )


@dataclass
class TrainingResult:
    anomaly: LoanAnomalyModel
    default_risk: DefaultRiskModel
    metadata: dict[str, Any]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def fit_models(
    table: TrainingTable,
    *,
    performance_days: float = DEFAULT_PERFORMANCE_DAYS,
    book_hours: float = DEFAULT_BOOK_HOURS,
    test_fraction: float = 0.3,
    random_state: int = 0,
    default_risk: DefaultRiskModel | None = None,
    anomaly: LoanAnomalyModel | None = None,
) -> TrainingResult:
    """Fit both models on the earlier window; measure them and the baseline on the later one.

    ``default_risk`` and ``anomaly`` are unfitted templates (cloned, seeded with
    ``random_state``); None uses the defaults.
    """
    X, y, times = table.labelled(performance_days, book_hours=book_hours)
    if len(y) < 20:
        raise InvalidParameter(
            f"need at least 20 new loans followed for performance_days={performance_days},"
            f" got {len(y)} of {len(table.times)}: use a longer history or a shorter window"
        )
    train, test = out_of_time_split(times, test_fraction)
    X_tr, y_tr, X_te, y_te = X[train], y[train], X[test], y[test]
    log.info("training on %d loans (%d defaults), testing on %d", len(y_tr), y_tr.sum(), len(y_te))
    default_risk = (
        clone(default_risk if default_risk is not None else DefaultRiskModel())
        .set_params(random_state=random_state)
        .fit(X_tr, y_tr)
    )
    anomaly = (
        clone(anomaly if anomaly is not None else LoanAnomalyModel())
        .set_params(random_state=random_state)
        .fit(X_tr)
    )

    baseline_threshold = alert_threshold(
        y_tr,
        default_risk.baseline_probability(X_tr),
        beta=default_risk.beta,
        max_alert_rate=default_risk.max_alert_rate,
    )
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
            "start": _iso(times[train].min()),
            "end": _iso(times[train].max()),
        },
        "test_window": {
            "start": _iso(times[test].min()),
            "end": _iso(times[test].max()),
        },
        "rows": {
            "train": len(y_tr),
            "train_defaults": int(y_tr.sum()),
            "test": len(y_te),
            "test_defaults": int(y_te.sum()),
        },
        "label": f"default or written_off within {performance_days:g} days of the new loan",
        "performance_days": performance_days,
        "book_hours": book_hours,
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
    performance_days: float = DEFAULT_PERFORMANCE_DAYS,
    book_hours: float = DEFAULT_BOOK_HOURS,
    test_fraction: float = 0.3,
    random_state: int = 0,
    make_current: bool = True,
    progress: Progress | None = None,
    default_risk: DefaultRiskModel | None = None,
    anomaly: LoanAnomalyModel | None = None,
) -> tuple[str, TrainingResult]:
    """Build the table, fit, and save a new registry version; returns its name and result."""
    table = build_training_table(history, progress=progress)
    result = fit_models(
        table,
        performance_days=performance_days,
        book_hours=book_hours,
        test_fraction=test_fraction,
        random_state=random_state,
        default_risk=default_risk,
        anomaly=anomaly,
    )
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
