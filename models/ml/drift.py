"""``model_drift``: population stability index (PSI) of key inputs and of each model's score,
live window against the training window.

The reference bins come from training (quantile edges of the training distribution, stored in
the artifact metadata). ``DriftMonitor`` is a helper the worker owns, not a detector: the ML
detectors hand it every scored batch (``observe``), and the worker calls ``check`` on its own
clock, exports ``psi`` as gauges and publishes the findings it returns. PSI ≥ 0.25 is the usual
"significant shift" level; 0.1–0.25 is worth watching.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from models.categories import Category, DetectorKind, EntityType, Feed, Severity
from models.errors import InvalidParameter
from models.findings import DetectorRef, Finding
from models.ml.features import FEATURE_INDEX

#: Inputs whose drift is watched: size, price, term, leverage and the borrower's breadth.
KEY_FEATURES: tuple[str, ...] = (
    "log_principal",
    "annual_rate",
    "rate_vs_type",
    "term_years",
    "dpd_months",
    "prior_lenders",
    "log_total_outstanding",
    "loan_to_net_assets",
)
SCORE = "score"
_EPS = 1e-4


def bin_edges(values: np.ndarray, bins: int = 10) -> np.ndarray:
    """Interior quantile edges, taken from the training values themselves so a discrete
    feature gets one bin per value (ties collapse) instead of empty bins between values."""
    probs = np.linspace(0, 1, bins + 1)[1:-1]
    qs = np.quantile(np.asarray(values, dtype=np.float64), probs, method="inverted_cdf")
    return np.unique(qs)


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin ``(-inf, e0], (e0, e1], ..., (e_last, inf)``."""
    idx = np.searchsorted(edges, np.asarray(values, dtype=np.float64), side="left")
    return np.bincount(idx, minlength=len(edges) + 1).astype(np.float64)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI of two histograms (counts or shares) on the same bins; empty bins get a floor."""
    e = np.clip(np.asarray(expected, dtype=np.float64), 0, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), 0, None)
    e = np.clip(e / e.sum(), _EPS, None)
    a = np.clip(a / a.sum(), _EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class DriftReference:
    """Per model: bin edges and training shares of each key feature and of the score."""

    models: dict[str, dict[str, dict[str, list[float]]]]

    @classmethod
    def from_training(
        cls,
        X: np.ndarray,
        scores: Mapping[str, np.ndarray],
        *,
        features: Sequence[str] = KEY_FEATURES,
        bins: int = 10,
    ) -> DriftReference:
        models: dict[str, dict[str, dict[str, list[float]]]] = {}
        for model, score in scores.items():
            columns = {f: X[:, FEATURE_INDEX[f]] for f in features}
            columns[SCORE] = np.asarray(score)
            entry = {}
            for name, values in columns.items():
                edges = bin_edges(values, bins)
                counts = bin_counts(values, edges)
                entry[name] = {
                    "edges": edges.tolist(),
                    "expected": (counts / counts.sum()).tolist(),
                }
            models[model] = entry
        return cls(models=models)

    def to_dict(self) -> dict[str, Any]:
        return {"models": self.models}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> DriftReference:
        return cls(models=dict(doc["models"]))


@dataclass
class _Window:
    rows: int = 0
    counts: dict[str, np.ndarray] = field(default_factory=dict)


class DriftMonitor:
    """Accumulates scored batches per model and compares each full window with training.

    Parameters
    ----------
    reference : DriftReference
        From the artifact metadata (``metadata["drift_reference"]``).
    level : float, default=0.25
        A PSI at or above it, on any watched input or the score, raises ``model_drift``.
    min_samples : int, default=500
        ``check`` leaves a window open until it holds this many scored loans.
    model_version : str, default=""
        Written into the evidence.
    params_version : str, default="1"
        Stamped on the finding's detector, like every other finding.
    """

    def __init__(
        self,
        *,
        reference: DriftReference,
        level: float = 0.25,
        min_samples: int = 500,
        model_version: str = "",
        params_version: str = "1",
    ) -> None:
        if level <= 0:
            raise InvalidParameter(f"drift level must be > 0, got {level}")
        if min_samples < 1:
            raise InvalidParameter(f"min_samples must be >= 1, got {min_samples}")
        self.reference = reference
        self.level = level
        self.min_samples = min_samples
        self.model_version = model_version
        self.params_version = params_version
        self.psi: dict[str, dict[str, float]] = {}
        self._windows: dict[str, _Window] = {m: _Window() for m in reference.models}
        self._drifting: set[str] = set()
        self._lock = threading.Lock()

    def observe(self, model: str, X: np.ndarray, scores: np.ndarray) -> None:
        """Add a scored batch (the ML detectors' ``observer``); safe from worker threads."""
        ref = self.reference.models.get(model)
        if ref is None or len(scores) == 0:
            return
        with self._lock:
            window = self._windows[model]
            for name, bins in ref.items():
                values = scores if name == SCORE else X[:, FEATURE_INDEX[name]]
                counts = bin_counts(values, np.asarray(bins["edges"]))
                if name in window.counts:
                    window.counts[name] += counts
                else:
                    window.counts[name] = counts
            window.rows += len(scores)

    def check(self, now: datetime) -> list[Finding]:
        """Close every window with enough rows: update ``psi`` and return drift findings.

        A model whose PSI crosses ``level`` gets a finding; one that was drifting and is back
        below gets a ``cleared`` finding, so its alert can resolve.
        """
        findings: list[Finding] = []
        with self._lock:
            for model, window in self._windows.items():
                if window.rows < self.min_samples:
                    continue
                ref = self.reference.models[model]
                values = {
                    name: psi(np.asarray(ref[name]["expected"]), counts)
                    for name, counts in window.counts.items()
                }
                self.psi[model] = values
                self._windows[model] = _Window()
                finding = self._finding(model, values, window.rows, now)
                if finding is not None:
                    findings.append(finding)
        return findings

    def _finding(
        self, model: str, values: dict[str, float], rows: int, now: datetime
    ) -> Finding | None:
        worst = max(values.values())
        drifted = sorted(n for n, v in values.items() if v >= self.level)
        if not drifted and model not in self._drifting:
            return None
        cleared = not drifted
        if cleared:
            self._drifting.discard(model)
        else:
            self._drifting.add(model)
        return Finding(
            category=Category.MODEL_DRIFT,
            severity=Severity.HIGH if worst >= 2 * self.level else Severity.MEDIUM,
            score=min(1.0, worst / (2 * self.level)),
            feed=Feed.SYSTEM,
            entity_type=EntityType.MODEL,
            entity_id=model,
            institution_id=None,
            event_time=now,
            detector=DetectorRef(DetectorKind.ML, "model_drift", self.params_version),
            evidence={
                "model_version": self.model_version,
                "psi": {k: round(v, 4) for k, v in sorted(values.items())},
                "level": self.level,
                "drifted": drifted,
                "window_rows": rows,
            },
            cleared=cleared,
        )
