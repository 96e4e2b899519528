"""Model registry on disk: named versions saved with skops (never pickle) plus a JSON sidecar.

Layout of a registry directory::

    current.json            {"version": "<name>"}: what workers load by default
    <version>/model.skops   the fitted LoanAnomalyModel and DefaultRiskModel
    <version>/metadata.json version, feature list, training window, data hash, metrics,
                            library versions, drift reference and the artifact's sha256

Loading checks the sha256 and the feature list before a single byte is deserialised, and
skops only instantiates the types on ``TRUSTED_TYPES``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops
import skops.io as sio

from models.errors import ArtifactError
from models.ml.anomaly import LoanAnomalyModel
from models.ml.default_risk import DefaultRiskModel
from models.ml.features import FEATURE_NAMES

log = logging.getLogger(__name__)

ARTIFACT_FILE = "model.skops"
METADATA_FILE = "metadata.json"
CURRENT_FILE = "current.json"
CURRENT = "current"
#: Types skops may build beyond its own safe defaults: our two estimators and sklearn's trees.
TRUSTED_TYPES = (
    "models.ml.anomaly.LoanAnomalyModel",
    "models.ml.default_risk.DefaultRiskModel",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)
_VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class ModelBundle:
    """One registry version: both fitted models and their metadata."""

    version: str
    anomaly: LoanAnomalyModel
    default_risk: DefaultRiskModel
    metadata: dict[str, Any]


def shipped_model_dir() -> Path:
    """The registry that ships inside the package, so the demo scores from the start."""
    return Path(__file__).resolve().parent / "shipped"


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "skops": skops.__version__,
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_name(version: str) -> None:
    if version == CURRENT or not _VERSION_NAME.match(version):
        raise ArtifactError(
            f"version name {version!r} must match {_VERSION_NAME.pattern} and not be {CURRENT!r}"
        )


def save_bundle(
    model_dir: Path,
    version: str,
    *,
    anomaly: LoanAnomalyModel,
    default_risk: DefaultRiskModel,
    metadata: dict[str, Any],
    make_current: bool = True,
) -> Path:
    """Write a new version (never overwriting one) and optionally point ``current`` at it."""
    _check_name(version)
    model_dir = Path(model_dir)
    target = model_dir / version
    if target.exists():
        raise ArtifactError(f"version {version!r} already exists in the registry")
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=model_dir))
    try:
        artifact = staging / ARTIFACT_FILE
        sio.dump(
            {"loan_anomaly": anomaly, "default_risk": default_risk},
            artifact,
            compression=zipfile.ZIP_DEFLATED,
        )
        meta = {
            **metadata,
            "version": version,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "feature_names": list(FEATURE_NAMES),
            "library_versions": library_versions(),
            "artifact_file": ARTIFACT_FILE,
            "artifact_sha256": file_sha256(artifact),
        }
        (staging / METADATA_FILE).write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        staging.chmod(0o755)  # mkdtemp makes it private; a registry is shared with workers
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    log.info("saved model version %s", version)
    if make_current:
        set_current(model_dir, version)
    return target


def list_versions(model_dir: Path) -> list[str]:
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return []
    return sorted(p.name for p in model_dir.iterdir() if (p / METADATA_FILE).is_file())


def current_version(model_dir: Path) -> str | None:
    pointer = Path(model_dir) / CURRENT_FILE
    if not pointer.is_file():
        return None
    return str(json.loads(pointer.read_text("utf-8"))["version"])


def set_current(model_dir: Path, version: str) -> None:
    """Point ``current`` at an existing version (atomically, so a reader never sees half)."""
    _check_name(version)
    model_dir = Path(model_dir)
    if version not in list_versions(model_dir):
        raise ArtifactError(f"version {version!r} is not in the registry")
    tmp = model_dir / f".{CURRENT_FILE}.tmp"
    tmp.write_text(json.dumps({"version": version}) + "\n", encoding="utf-8")
    tmp.replace(model_dir / CURRENT_FILE)


def read_metadata(model_dir: Path, version: str | None = None) -> dict[str, Any]:
    """The sidecar of a version (``None`` or ``"current"``: the current one)."""
    model_dir = Path(model_dir)
    name = _resolve(model_dir, version)
    path = model_dir / name / METADATA_FILE
    if not path.is_file():
        raise ArtifactError(f"version {name!r} has no {METADATA_FILE} in the registry")
    meta: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return meta


def _resolve(model_dir: Path, version: str | None) -> str:
    if version is None or version == CURRENT:
        name = current_version(model_dir)
        if name is None:
            raise ArtifactError("the registry has no current version")
        return name
    _check_name(version)
    return version


def load_bundle(
    model_dir: Path,
    version: str | None = None,
    *,
    expected_features: tuple[str, ...] = FEATURE_NAMES,
) -> ModelBundle:
    """Load a version after checking its artifact hash and feature list.

    Raises ``ArtifactError`` naming what differs: the sha256, the features missing or
    unexpected (or their order), or a type skops would have to trust.
    """
    model_dir = Path(model_dir)
    meta = read_metadata(model_dir, version)
    name = str(meta.get("version"))
    artifact = model_dir / name / ARTIFACT_FILE
    if not artifact.is_file():
        raise ArtifactError(f"version {name!r} has no {ARTIFACT_FILE}")
    actual = file_sha256(artifact)
    if actual != meta.get("artifact_sha256"):
        raise ArtifactError(
            f"{ARTIFACT_FILE} of version {name!r} has sha256 {actual}, but its metadata says"
            f" {meta.get('artifact_sha256')}: the artifact was changed after it was saved"
        )
    _check_features(name, list(meta.get("feature_names") or []), list(expected_features))
    _warn_on_versions(name, meta.get("library_versions") or {})
    untrusted = set(sio.get_untrusted_types(file=artifact)) - set(TRUSTED_TYPES)
    if untrusted:
        raise ArtifactError(f"version {name!r} contains untrusted types {sorted(untrusted)}")
    loaded = sio.load(artifact, trusted=list(TRUSTED_TYPES))
    anomaly, default_risk = loaded.get("loan_anomaly"), loaded.get("default_risk")
    if not isinstance(anomaly, LoanAnomalyModel) or not isinstance(default_risk, DefaultRiskModel):
        raise ArtifactError(f"version {name!r} does not hold both loan models")
    for model in (anomaly, default_risk):
        if model.n_features_in_ != len(expected_features):
            raise ArtifactError(
                f"version {name!r}: {type(model).__name__} was fitted on"
                f" {model.n_features_in_} features, expected {len(expected_features)}"
            )
    return ModelBundle(version=name, anomaly=anomaly, default_risk=default_risk, metadata=meta)


def _check_features(name: str, stored: list[str], expected: list[str]) -> None:
    if stored == expected:
        return
    missing = [f for f in expected if f not in stored]
    unexpected = [f for f in stored if f not in expected]
    if missing or unexpected:
        raise ArtifactError(
            f"feature list of version {name!r} differs from this code's:"
            f" missing {missing}, unexpected {unexpected}"
        )
    raise ArtifactError(f"feature list of version {name!r} has the right names in another order")


def _warn_on_versions(name: str, stored: dict[str, str]) -> None:
    here = library_versions()
    for lib in ("scikit-learn", "numpy"):
        if stored.get(lib) and stored[lib] != here[lib]:
            log.warning(
                "model version %s was saved with %s %s, running %s %s: scores may differ",
                name,
                lib,
                stored[lib],
                lib,
                here[lib],
            )
