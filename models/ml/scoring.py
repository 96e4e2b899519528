"""What the two loan models share as detectors: borrower state threading, batch scoring,
explanations and the evidence of a finding.

The live worker hands a micro-batch of loans (re-keyed by borrower) to ``detect_batch``;
features are built one event at a time, threading the state when one borrower appears several
times in the batch, then the whole batch is scored in one scikit-learn call.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from models.categories import DetectorKind, EntityType, Feed, Severity
from models.detector import Context, Detector, Partition
from models.errors import ArtifactError
from models.events import NEW_LOAN_BUSINESS, Loan
from models.findings import Finding
from models.ml.explain import top_contributions
from models.ml.features import FEATURE_NAMES, advance, loan_features, profile
from models.params import DetectorParams
from models.warmup import is_book_report

#: Called with (model name, feature rows, scores) of every scored batch: the drift monitor.
ScoreObserver = Callable[[str, np.ndarray, np.ndarray], None]


class BorrowerModelDetector(Detector):
    """Base of the ML loan detectors (``Partition.BORROWER``, state = borrower features).

    Parameters
    ----------
    params : DetectorParams, optional
        ``params.version`` is stamped on findings.
    model : fitted estimator, optional
        From a registry bundle (``models.ml.load_bundle``); required before the first event.
    model_version : str, default="unversioned"
        Registry version name, written into each finding's evidence.
    threshold : float or None, default=None
        Alert when the score is at or above it; None takes the threshold chosen at training.
    top_features : int, default=5
        Contributions listed in each finding's explanation.
    observer : callable or None, default=None
        Receives every scored batch (model name, rows, scores), e.g. ``DriftMonitor.observe``.
    book_report_hours : float, default=12
        Loans within this many hours of their lender's registry record re-report the existing
        book (domain.md): they are scored (and seen by drift) but never alerted on.
    """

    feed: ClassVar[Feed] = Feed.LOANS
    kind: ClassVar[DetectorKind] = DetectorKind.ML
    partition: ClassVar[Partition] = Partition.BORROWER

    def __init__(
        self,
        *,
        params: DetectorParams | None = None,
        model: Any = None,
        model_version: str = "unversioned",
        threshold: float | None = None,
        top_features: int = 5,
        observer: ScoreObserver | None = None,
        book_report_hours: float = 12.0,
    ) -> None:
        super().__init__(params=params)
        self.book_report_hours = book_report_hours
        self.model = model
        self.model_version = model_version
        self.threshold = threshold
        self.top_features = top_features
        self.observer = observer

    def state_key(self, event: Any) -> str:
        return str(event.borrower_id)

    def detect(self, event: Any, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        return self.detect_batch([event], [state], ctx)[0]

    def detect_batch(
        self, events: Sequence[Any], states: Sequence[Any], ctx: Context
    ) -> list[tuple[Any, list[Finding]]]:
        latest: dict[str, Any] = {}
        new_states: list[Any] = []
        rows: list[np.ndarray] = []
        scored: list[int] = []
        priors: list[Any] = []
        for i, (event, state) in enumerate(zip(events, states, strict=True)):
            key = self.state_key(event)
            before = latest.get(key, state)
            after = advance(before, event)
            latest[key] = after
            new_states.append(after)
            if event.event_type in NEW_LOAN_BUSINESS:
                rows.append(loan_features(event, before, ctx.registry))
                scored.append(i)
                priors.append(before)
        findings: list[list[Finding]] = [[] for _ in events]
        if rows:
            X = np.vstack(rows)
            scores = self._scores(X)
            if self.observer is not None:
                self.observer(self.name, X, scores)
            threshold = self._threshold()
            hits = np.flatnonzero(scores >= threshold)
            if hits.size:
                contributions = self._contributions(X[hits])
                reference = self._reference()
                for k, h in enumerate(hits):
                    i = scored[h]
                    if is_book_report(events[i], ctx.registry, self.book_report_hours):
                        continue
                    explanation = top_contributions(
                        X[h], contributions[k], reference, FEATURE_NAMES, top=self.top_features
                    )
                    findings[i].append(
                        self._finding(
                            events[i], float(scores[h]), threshold, explanation, priors[h]
                        )
                    )
        return list(zip(new_states, findings, strict=True))

    def _finding(
        self,
        event: Loan,
        score: float,
        threshold: float,
        explanation: tuple[dict[str, Any], ...],
        prior: Any,
    ) -> Finding:
        evidence = {
            "model_version": self.model_version,
            "score": round(score, 6),
            "threshold": round(threshold, 6),
            "loan": {
                "event_type": event.event_type,
                "principal": event.principal,
                "annual_rate": event.annual_rate,
                "term_days": event.term_days,
                "days_past_due": event.days_past_due,
                "borrower_id": event.borrower_id,
            },
            "borrower_profile": profile(prior),
        }
        return Finding(
            category=self.categories[0],
            severity=self._severity(score, threshold),
            score=min(max(score, 0.0), 1.0),
            feed=Feed.LOANS,
            entity_type=EntityType.LOAN,
            entity_id=event.loan_id,
            institution_id=event.institution_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence=evidence,
            event_ids=(event.event_id,),
            explanation=explanation,
        )

    def _fitted_model(self) -> Any:
        if self.model is None:
            raise ArtifactError(
                f"detector {self.name} has no model: build it from a registry bundle"
                " (models.ml.build_ml_detectors)"
            )
        return self.model

    @abstractmethod
    def _scores(self, X: np.ndarray) -> np.ndarray: ...

    def _contributions(self, X: np.ndarray) -> np.ndarray:
        return self._fitted_model().contributions(X)  # type: ignore[no-any-return]

    def _reference(self) -> np.ndarray:
        """The training medians: what a normal loan looks like, for explanations."""
        return self._fitted_model().medians_  # type: ignore[no-any-return]

    def _threshold(self) -> float:
        """The configured threshold, else the one chosen at training."""
        if self.threshold is not None:
            return self.threshold
        return float(self._fitted_model().threshold_)

    @abstractmethod
    def _severity(self, score: float, threshold: float) -> Severity: ...
