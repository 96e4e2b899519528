"""Shared, session-scoped fits on the crafted history so each test stays within seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.history import to_event
from models.ml import DefaultRiskModel, LoanAnomalyModel
from models.ml.artifacts import ModelBundle, load_bundle, save_bundle
from models.ml.train import TrainingResult, TrainingTable, fit_models, table_from_events
from tests.models.ml.crafted import crafted_history, write_crafted

#: Crafted loans default within 50 days of origination.
PERFORMANCE_DAYS = 60.0
#: Small models: the behaviour under test does not need full-size forests.
SMALL = {
    "default_risk": DefaultRiskModel(max_iter=60, learning_rate=0.1, max_leaf_nodes=4),
    "anomaly": LoanAnomalyModel(n_estimators=40),
}


@pytest.fixture(scope="session")
def crafted_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_crafted(tmp_path_factory.mktemp("history") / "crafted.jsonl", 200, seed=1)


@pytest.fixture(scope="session")
def table(crafted_path: Path) -> TrainingTable:
    """Built from the records directly: the contract check of every line is tested elsewhere."""
    records = crafted_history(500, seed=1)
    return table_from_events(
        (to_event(r) for r in records), data_sha256="0" * 64, source=crafted_path.name
    )


@pytest.fixture(scope="session")
def trained(table: TrainingTable) -> TrainingResult:
    return fit_models(table, performance_days=PERFORMANCE_DAYS, random_state=0, **SMALL)


@pytest.fixture(scope="session")
def registry_dir(tmp_path_factory: pytest.TempPathFactory, trained: TrainingResult) -> Path:
    model_dir = tmp_path_factory.mktemp("registry")
    save_bundle(
        model_dir,
        "v1",
        anomaly=trained.anomaly,
        default_risk=trained.default_risk,
        metadata=trained.metadata,
    )
    return model_dir


@pytest.fixture(scope="session")
def bundle(registry_dir: Path) -> ModelBundle:
    return load_bundle(registry_dir, "v1")
