"""Shared, session-scoped fits on the crafted history so each test stays within seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.ml.artifacts import ModelBundle, load_bundle, save_bundle
from models.ml.train import TrainingResult, TrainingTable, build_training_table, fit_models
from tests.models.ml.crafted import write_crafted


@pytest.fixture(scope="session")
def crafted_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_crafted(tmp_path_factory.mktemp("history") / "crafted.jsonl", 300, seed=1)


@pytest.fixture(scope="session")
def table(crafted_path: Path) -> TrainingTable:
    return build_training_table(crafted_path)


@pytest.fixture(scope="session")
def trained(table: TrainingTable) -> TrainingResult:
    return fit_models(table, test_fraction=0.3, random_state=0)


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
