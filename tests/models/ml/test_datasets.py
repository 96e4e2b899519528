"""Real public data (UCI, CC BY 4.0) mapped into the loan feature table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.errors import ArtifactError
from models.ml.datasets import german_features, german_raw, taiwan_features
from models.ml.features import FEATURE_INDEX, FEATURE_NAMES

DATASETS = Path(__file__).resolve().parents[4] / "shared" / "datasets"


def test_german_maps_into_the_feature_table_with_its_bad_rate() -> None:
    table = german_features(DATASETS)
    assert table.X.shape == (1000, len(FEATURE_NAMES))
    assert table.y.sum() == 300
    guaranteed = table.X[:, FEATURE_INDEX["has_guarantee"]].sum()
    assert guaranteed == 52  # other_debtors_or_guarantors == "guarantor"


def test_taiwan_months_late_become_days_past_due() -> None:
    table = taiwan_features(DATASETS)
    assert table.X.shape == (30000, len(FEATURE_NAMES))
    assert table.y.sum() == 6636
    # the first client: X6 = 2 months late now, X7 = 2 earlier
    assert table.X[0, FEATURE_INDEX["dpd_months"]] == 2.0
    assert table.X[0, FEATURE_INDEX["prior_overdues"]] == 1.0


def test_raw_table_one_hot_encodes_categories() -> None:
    table = german_raw(DATASETS)
    onehot = [i for i, c in enumerate(table.columns) if c.startswith("purpose=")]
    assert np.all(table.X[:, onehot].sum(axis=1) == 1)


def test_missing_dataset_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"uci_german_credit\.csv not found"):
        german_features(tmp_path)
