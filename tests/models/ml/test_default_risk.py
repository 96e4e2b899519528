"""default_risk: calibrated probabilities, a baseline beside them, batch == sequential."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from models import Context, DictRegistry, Finding, Loan
from models.errors import ArtifactError, InvalidParameter
from models.events import parse_event
from models.ml import DefaultRisk, DefaultRiskModel, LoanAnomaly, ModelBundle
from models.ml.train import TrainingTable
from tests.models.ml.conftest import PERFORMANCE_DAYS
from tests.models.ml.crafted import START, loan_value


def test_probabilities_lie_in_unit_interval(table: TrainingTable, bundle: ModelBundle) -> None:
    p = bundle.default_risk.default_probability(table.X)
    assert p.min() >= 0.0
    assert p.max() <= 1.0


def test_calibrated_mean_matches_the_training_default_rate(
    table: TrainingTable, bundle: ModelBundle
) -> None:
    X, y, _ = table.labelled(PERFORMANCE_DAYS)
    assert bundle.default_risk.default_probability(X).mean() == pytest.approx(y.mean(), abs=0.05)


def test_fit_refuses_a_table_without_enough_defaults() -> None:
    X = np.zeros((50, 3))
    y = np.zeros(50, dtype=int)
    y[0] = 1
    with pytest.raises(InvalidParameter, match="need at least cv=3 defaults"):
        DefaultRiskModel().fit(X, y)


def test_detector_without_model_names_the_fix() -> None:
    event = _loans(2)[1]
    with pytest.raises(ArtifactError, match="has no model"):
        DefaultRisk().detect(event, None, Context(registry=DictRegistry()))


def _loans(n: int, *, borrower: str = "B-SAME") -> list[Loan]:
    out = []
    for k in range(n):
        doc = loan_value(
            event_id=f"e{k}",
            event_type="originated" if k % 3 else "overdue",
            when=START + timedelta(days=k),
            lender=f"FJ-MC-{k % 7:04d}",
            loan_id=f"L{k // 3}",
            borrower=borrower,
            principal=50_000.0 * (k + 1),
            outstanding=50_000.0 * (k + 1),
            rate=0.1 + 0.01 * k,
            dpd=30 if k % 3 == 0 else 0,
        )
        if doc["event_type"] == "originated":
            doc["days_past_due"] = 0
        event = parse_event("loans", doc)
        assert isinstance(event, Loan)
        out.append(event)
    return out


def _comparable(findings: list[Finding]) -> list[dict[str, object]]:
    return [f.to_dict() for f in findings]


@pytest.mark.parametrize("detector_cls", [DefaultRisk, LoanAnomaly])
def test_batch_equals_sequential_detect_for_one_borrower(
    detector_cls: type[DefaultRisk] | type[LoanAnomaly], bundle: ModelBundle
) -> None:
    model = bundle.default_risk if detector_cls is DefaultRisk else bundle.anomaly
    detector = detector_cls(model=model, threshold=0.0)  # threshold 0: every new loan fires
    ctx = Context(registry=DictRegistry())
    events = _loans(12)
    state = None
    sequential = []
    for e in events:
        state, found = detector.detect(e, state, ctx)
        sequential.append((state, _comparable(found)))
    batched = detector.detect_batch(events, [None] * len(events), ctx)
    assert [(s, _comparable(f)) for s, f in batched] == sequential
    assert sum(len(f) for _, f in sequential) == 8  # only new business is scored


def test_finding_names_the_loan_and_its_lender(bundle: ModelBundle) -> None:
    detector = DefaultRisk(model=bundle.default_risk, threshold=0.0, model_version="v1")
    event = _loans(2)[1]
    _, findings = detector.detect(event, None, Context(registry=DictRegistry()))
    finding = findings[0]
    assert (finding.entity_type, finding.entity_id) == ("loan", event.loan_id)
    assert finding.institution_id == event.institution_id
    assert finding.event_ids == (event.event_id,)
    assert finding.evidence["model_version"] == "v1"
    assert finding.evidence["borrower_profile"]["loans_seen"] == 0
    assert 1 <= len(finding.explanation) <= 5
