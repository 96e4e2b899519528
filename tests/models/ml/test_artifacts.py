"""The registry: versions, the current pointer, and refusal of anything that doesn't match."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.errors import ArtifactError
from models.ml import (
    FEATURE_NAMES,
    current_version,
    list_versions,
    load_bundle,
    save_bundle,
    set_current,
)
from models.ml.artifacts import ARTIFACT_FILE, METADATA_FILE
from models.ml.train import TrainingResult, TrainingTable


@pytest.fixture
def registry(tmp_path: Path, registry_dir: Path) -> Path:
    copy = tmp_path / "registry"
    shutil.copytree(registry_dir, copy)
    return copy


def test_loaded_bundle_scores_like_the_saved_models(
    registry: Path, trained: TrainingResult, table: TrainingTable
) -> None:
    bundle = load_bundle(registry)
    np.testing.assert_array_equal(
        bundle.default_risk.default_probability(table.X),
        trained.default_risk.default_probability(table.X),
    )
    np.testing.assert_array_equal(
        bundle.anomaly.anomaly_score(table.X), trained.anomaly.anomaly_score(table.X)
    )


def test_metadata_records_what_a_reviewer_needs(registry: Path) -> None:
    meta = load_bundle(registry, "v1").metadata
    assert meta["feature_names"] == list(FEATURE_NAMES)
    for key in ("training_window", "data_sha256", "metrics", "library_versions"):
        assert meta[key]
    assert len(meta["artifact_sha256"]) == 64


def test_tampered_artifact_is_refused(registry: Path) -> None:
    with (registry / "v1" / ARTIFACT_FILE).open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ArtifactError, match="sha256"):
        load_bundle(registry, "v1")


def test_mismatched_feature_list_is_refused(registry: Path) -> None:
    with pytest.raises(ArtifactError, match=r"missing \['extra_feature'\]"):
        load_bundle(registry, "v1", expected_features=(*FEATURE_NAMES, "extra_feature"))


def test_edited_feature_list_in_metadata_is_refused(registry: Path) -> None:
    path = registry / "v1" / METADATA_FILE
    meta = json.loads(path.read_text("utf-8"))
    meta["feature_names"] = list(reversed(meta["feature_names"]))
    path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtifactError, match="another order"):
        load_bundle(registry, "v1")


def test_versions_switch_through_the_current_pointer(
    registry: Path, trained: TrainingResult
) -> None:
    save_bundle(
        registry,
        "v2",
        anomaly=trained.anomaly,
        default_risk=trained.default_risk,
        metadata=trained.metadata,
        make_current=False,
    )
    assert list_versions(registry) == ["v1", "v2"]
    assert current_version(registry) == "v1"
    set_current(registry, "v2")
    assert load_bundle(registry).version == "v2"
    assert load_bundle(registry, "v1").version == "v1"


def test_existing_version_is_never_overwritten(registry: Path, trained: TrainingResult) -> None:
    with pytest.raises(ArtifactError, match="already exists"):
        save_bundle(
            registry,
            "v1",
            anomaly=trained.anomaly,
            default_risk=trained.default_risk,
            metadata=trained.metadata,
        )


@pytest.mark.parametrize("name", ["current", "../escape", "", "a b"])
def test_unsafe_version_names_are_refused(registry: Path, name: str) -> None:
    with pytest.raises(ArtifactError, match="version name"):
        set_current(registry, name)


def test_unknown_version_is_refused(registry: Path) -> None:
    with pytest.raises(ArtifactError, match=r"'v9' has no metadata\.json"):
        load_bundle(registry, "v9")


def test_saved_version_is_readable_by_other_users(registry: Path) -> None:
    assert (registry / "v1").stat().st_mode & 0o755 == 0o755
