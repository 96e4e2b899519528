"""The feature function: one code path offline and online, no leakage, bounded state."""

from __future__ import annotations

import copy
import random
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from models import DictRegistry, DictStore, RiskEngine
from models.detector import Partition
from models.events import NEW_LOAN_BUSINESS, Institution, Loan, parse_event
from models.history import read_history, to_event
from models.ml import FEATURE_NAMES, ModelBundle, advance, build_ml_detectors, loan_features
from models.ml.features import FEATURE_INDEX, MAX_LENDERS, MAX_OPEN_LOANS, history_features
from models.ml.train import history_events
from tests.models.ml.crafted import START, loan_value


def _loan(**overrides: object) -> Loan:
    doc = loan_value(
        event_id="e1",
        event_type="originated",
        when=START,
        lender="FJ-MC-0001",
        loan_id="L1",
        borrower="B1",
        principal=100_000.0,
        outstanding=100_000.0,
        rate=0.10,
    )
    doc.update(overrides)
    event = parse_event("loans", doc)
    assert isinstance(event, Loan)
    return event


def test_offline_rows_equal_the_rows_the_live_detector_scores(
    crafted_path: Path, bundle: ModelBundle
) -> None:
    events = [to_event(r) for r in read_history(crafted_path)]  # type: ignore[arg-type]
    offline = [row for e, row in history_features(events) if e.event_type in NEW_LOAN_BUSINESS]
    seen: list[np.ndarray] = []
    detectors = build_ml_detectors(bundle, observer=lambda m, X, s: seen.append(X))[:1]
    engine = RiskEngine(detectors=detectors)
    store, registry = DictStore(), DictRegistry()
    rng = random.Random(0)
    i = 0
    while i < len(events):
        size = rng.randint(1, 40)
        batch = events[i : i + size]
        i += size
        for e in batch:
            if isinstance(e, Institution):
                registry.put(e)
        loans = [e for e in batch if isinstance(e, Loan)]
        if loans:
            engine.process_batch(
                loans, store=store, registry=registry, partition=Partition.BORROWER
            )
    online = np.vstack(seen)
    assert online.shape == (len(offline), len(FEATURE_NAMES))
    np.testing.assert_array_equal(online, np.vstack(offline))


def test_features_read_the_state_before_the_event() -> None:
    registry = DictRegistry()
    default = _loan(event_type="default", days_past_due=90, event_id="e2")
    row = loan_features(default, None, registry)
    assert row[FEATURE_INDEX["prior_defaults"]] == 0.0
    after = advance(None, default)
    assert (
        loan_features(_loan(event_id="e3"), after, registry)[FEATURE_INDEX["prior_defaults"]] == 1
    )


def test_advance_never_mutates_the_state_it_is_given() -> None:
    state = advance(None, _loan())
    frozen = copy.deepcopy(state)
    advance(state, _loan(event_id="e2", loan_id="L2", institution_id="FJ-PW-0001"))
    assert state == frozen


def test_state_stays_bounded_however_many_loans() -> None:
    state = None
    for k in range(200):
        state = advance(
            state,
            _loan(
                event_id=f"e{k}",
                loan_id=f"L{k}",
                institution_id=f"FJ-MC-{k:04d}",
                event_time=(START + timedelta(hours=k)).isoformat(),
            ),
        )
    assert state is not None
    assert len(state["bal"]) == MAX_OPEN_LOANS
    assert len(state["lenders"]) == MAX_LENDERS
    assert state["new"] == 200


def test_repaid_loan_leaves_the_outstanding_total() -> None:
    registry = DictRegistry()
    state = advance(None, _loan())
    state = advance(state, _loan(event_type="repayment", outstanding=0.0, event_id="e2"))
    row = loan_features(_loan(event_id="e3", loan_id="L2"), state, registry)
    assert row[FEATURE_INDEX["log_total_outstanding"]] == 0.0


@pytest.mark.parametrize(
    ("lender_type", "expected"), [("microcredit", 0.12 - 0.10), ("local_bank", 0.12 - 0.05)]
)
def test_rate_is_compared_with_the_lender_types_typical_rate(
    lender_type: str, expected: float
) -> None:
    registry = DictRegistry()
    registry.put(
        Institution(
            event_id="i1",
            event_time=START,
            institution_id="FJ-MC-0001",
            name="x",
            institution_type=lender_type,
            region_code="350500",
            registered_capital=1e8,
            net_assets=2e8,
            license_status="active",
        )
    )
    row = loan_features(_loan(annual_rate=0.12), None, registry)
    assert row[FEATURE_INDEX["rate_vs_type"]] == pytest.approx(expected)
    assert row[FEATURE_INDEX["loan_to_net_assets"]] == pytest.approx(100_000 / 2e8)
    assert row[FEATURE_INDEX[f"lender_{lender_type}"]] == 1.0


def test_unknown_lender_is_flagged() -> None:
    row = loan_features(_loan(), None, DictRegistry())
    assert row[FEATURE_INDEX["lender_unknown"]] == 1.0
    assert row[FEATURE_INDEX["lender_not_active"]] == 1.0


def test_history_walk_skips_nothing_valid(crafted_path: Path) -> None:
    skipped: list[int] = []
    events = list(history_events(crafted_path, skipped=skipped))
    assert skipped == [0]
    assert sum(isinstance(e, Loan) for e in events) > 300
