"""The ``ml`` section of the worker settings: which model version to serve and how to alert."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class MLConfig(BaseModel):
    """Serving configuration of the ML detectors (defaults serve the shipped model).

    ``model_dir`` None means the registry shipped in the package; ``version`` "current"
    follows the registry's pointer. Thresholds None use the ones chosen at training.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    model_dir: Path | None = None
    version: str = "current"
    batch_size: int = Field(64, ge=1, description="loans per scikit-learn call")
    batch_within_seconds: float = Field(
        0.5, gt=0, description="under a backlog, the longest wait to fill a batch (none when quiet)"
    )
    anomaly_threshold: float | None = Field(None, ge=0, le=1)
    default_threshold: float | None = Field(None, ge=0, le=1)
    top_features: int = Field(5, ge=1, le=20)
    book_report_hours: float = Field(
        12.0, ge=0, description="no ML alert on loans this soon after the lender's first record"
    )
    drift_psi_level: float = Field(0.25, gt=0)
    drift_min_samples: int = Field(500, ge=1, description="scored loans per drift window")
    drift_check_seconds: float = Field(60.0, gt=0, description="how often the worker checks")
