"""Training: labels within the performance window, out-of-time split, metadata, registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.errors import InvalidParameter
from models.ml import load_bundle
from models.ml.evaluation import binary_metrics, out_of_time_split
from models.ml.train import TrainingResult, TrainingTable, fit_models
from tests.models.ml.conftest import PERFORMANCE_DAYS, SMALL

DAY = 86_400.0


def _table(times: list[float], defaults: list[float], end: float) -> TrainingTable:
    return TrainingTable(
        X=np.zeros((len(times), 2)),
        times=np.array(times) * DAY,
        default_times=np.array(defaults) * DAY,
        end_time=end * DAY,
        event_ids=[str(i) for i in range(len(times))],
        data_sha256="0" * 64,
        source="t.jsonl",
    )


def test_label_is_a_default_within_the_performance_window() -> None:
    inf = np.inf
    table = _table([0, 0, 0, 10], [5, 40, inf, 12], end=100)
    _, y, _ = table.labelled(30)
    assert list(y) == [1, 0, 0, 1]


def test_rows_without_full_follow_up_are_left_out() -> None:
    table = _table([0, 69, 70, 71], [np.inf] * 4, end=100)
    _, y, times = table.labelled(30)
    assert list(times / DAY) == [0, 69, 70]
    assert len(y) == 3


def test_default_before_the_row_is_not_its_label() -> None:
    table = _table([10], [5], end=100)
    assert list(table.labelled(30)[1]) == [0]


def test_out_of_time_split_trains_on_the_earlier_rows() -> None:
    times = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    train, test = out_of_time_split(times, 0.4)
    assert times[train].max() < times[test].min()
    assert sorted(times[test]) == [4.0, 5.0]


def test_table_labels_the_crafted_defaults(table: TrainingTable) -> None:
    _, y, _ = table.labelled(PERFORMANCE_DAYS)
    assert 0.05 < y.mean() < 0.5


def test_too_short_history_names_the_window(table: TrainingTable) -> None:
    with pytest.raises(InvalidParameter, match="performance_days=5000"):
        fit_models(table, performance_days=5000)


def test_metrics_compare_the_model_with_the_baseline(trained: TrainingResult) -> None:
    metrics = trained.metadata["metrics"]
    for name in ("default_risk", "logistic_baseline"):
        for key in ("auroc", "pr_auc", "brier", "alert_rate"):
            assert metrics[name][key] is not None
    assert metrics["default_risk"]["auroc"] > 0.6


def test_binary_metrics_alert_rate_counts_scores_at_the_threshold() -> None:
    metrics = binary_metrics(np.array([0, 1, 0, 1]), np.array([0.1, 0.5, 0.5, 0.9]), 0.5)
    assert metrics["alert_rate"] == 0.75
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == 1.0


def test_training_window_precedes_the_test_window(trained: TrainingResult) -> None:
    meta = trained.metadata
    assert meta["training_window"]["end"] <= meta["test_window"]["start"]


def test_train_and_register_writes_a_loadable_version(crafted_path: Path, tmp_path: Path) -> None:
    from models.ml.train import train_and_register

    name, _ = train_and_register(
        crafted_path,
        model_dir=tmp_path,
        version="t1",
        performance_days=PERFORMANCE_DAYS,
        **SMALL,  # type: ignore[arg-type]
    )
    assert name == "t1"
    assert load_bundle(tmp_path).metadata["source"] == crafted_path.name


def test_same_history_and_seed_train_the_same_model(table: TrainingTable) -> None:
    a = fit_models(table, performance_days=PERFORMANCE_DAYS, random_state=3, **SMALL)  # type: ignore[arg-type]
    b = fit_models(table, performance_days=PERFORMANCE_DAYS, random_state=3, **SMALL)  # type: ignore[arg-type]
    X, _, _ = table.labelled(PERFORMANCE_DAYS)
    np.testing.assert_array_equal(
        a.default_risk.default_probability(X), b.default_risk.default_probability(X)
    )


def test_build_reads_every_new_loan(table: TrainingTable) -> None:
    assert len(table.event_ids) == len(table.times) == table.X.shape[0]


def test_alert_budget_caps_the_share_of_alerts() -> None:
    from models.ml.evaluation import alert_threshold

    rng = np.random.default_rng(0)
    p = rng.uniform(size=1000)
    y = (rng.uniform(size=1000) < p).astype(int)
    unbounded = alert_threshold(y, p)
    capped = alert_threshold(y, p, max_alert_rate=0.05)
    assert np.mean(p >= unbounded) > 0.05
    assert np.mean(p >= capped) <= 0.05
