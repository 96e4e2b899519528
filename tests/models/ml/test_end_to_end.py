"""An injected risky loan, replayed through the backtest with the ML detectors, raises ML
alerts that name the loan and its lender and explain themselves."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from models import Category, RiskEngine
from models.backtest import Backtest
from models.history import HistoryRecord
from models.ml import ModelBundle, build_ml_detectors
from tests.models.ml.crafted import START, crafted_history, loan_value

RISKY_BORROWER = "91350500RISKY0001"


def _risky_records() -> list[HistoryRecord]:
    """Three defaults at three lenders, then a huge, expensive new loan from a fourth."""
    t = START + timedelta(days=200)
    out = []
    for k, lender in enumerate(("FJ-MC-0001", "FJ-MC-0002", "FJ-PW-0001")):
        for kind, dpd, days in (("originated", 0, 0), ("overdue", 30, 30), ("default", 90, 90)):
            value = loan_value(
                event_id=f"risky-{k}-{kind}",
                event_type=kind,
                when=t + timedelta(days=days + k),
                lender=lender,
                loan_id=f"RISKY-L{k}",
                borrower=RISKY_BORROWER,
                principal=300_000.0,
                outstanding=300_000.0,
                rate=0.20,
                dpd=dpd,
            )
            out.append(HistoryRecord("loans", lender, value))
    final = loan_value(
        event_id="risky-final",
        event_type="originated",
        when=t + timedelta(days=100),
        lender="FJ-PL-0001",
        loan_id="RISKY-FINAL",
        borrower=RISKY_BORROWER,
        principal=40_000_000.0,
        outstanding=40_000_000.0,
        rate=0.24,
        collateral="none",
    )
    out.append(HistoryRecord("loans", "FJ-PL-0001", final))
    return out


@pytest.fixture(scope="module")
def findings(bundle: ModelBundle) -> list[dict[str, object]]:
    records = crafted_history(60, seed=5)[:200] + _risky_records()
    backtest = Backtest(engine=RiskEngine(detectors=build_ml_detectors(bundle)))
    return [f.to_dict() for f in backtest.run(records)]


@pytest.mark.parametrize("category", [Category.DEFAULT_RISK, Category.LOAN_ANOMALY])
def test_injected_risky_loan_raises_an_explained_ml_alert(
    findings: list[dict[str, object]], category: Category
) -> None:
    hits = [f for f in findings if f["category"] == category and f["entity_id"] == "RISKY-FINAL"]
    assert len(hits) == 1
    hit = hits[0]
    assert hit["institution_id"] == "FJ-PL-0001"
    assert hit["event_ids"] == ["risky-final"]
    explanation = hit["explanation"]
    assert isinstance(explanation, list) and explanation
    assert all({"feature", "value", "typical", "contribution"} <= set(e) for e in explanation)
    assert any(e["contribution"] > 0 for e in explanation)
    profile = hit["evidence"]["borrower_profile"]  # type: ignore[index]
    assert profile["defaults"] == 3
    assert profile["lenders"] == 3
    json.dumps(hit)  # evidence and explanation are JSON, ready for the findings topic
