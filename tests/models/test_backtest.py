"""The backtest routes each event through the same partitions as the worker."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from models import (
    Category,
    Context,
    Detector,
    DetectorKind,
    EntityType,
    Feed,
    Finding,
    Partition,
    RiskEngine,
    Severity,
)
from models.backtest import Backtest
from models.history import BadLine, HistoryRecord, parse_line

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "contracts" / "examples"


def _record(topic: str, example: str) -> HistoryRecord:
    value = json.loads((EXAMPLES / f"{example}.json").read_text("utf-8"))
    return HistoryRecord(topic, "k", value)


class _Seen(Detector):
    """Records where it ran; fires once per event so composites have input."""

    feed = Feed.LOANS
    categories: ClassVar[tuple[Category, ...]] = (Category.USURIOUS_RATE,)
    kind = DetectorKind.RULE
    name = "seen"
    namespace = "seen"

    def state_key(self, event: Any) -> str:
        return "all"

    def detect(self, event: Any, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        state = [*(state or []), f"{self.feed}:{self.partition}"]
        finding = Finding(
            category=Category.USURIOUS_RATE,
            severity=Severity.HIGH,
            score=1.0,
            feed=self.feed,
            entity_type=EntityType.LOAN,
            entity_id=event.event_id,
            institution_id=event.institution_id,
            event_time=event.event_time,
            detector=self.ref,
        )
        return state, [finding]


class _Borrower(_Seen):
    partition = Partition.BORROWER


class _Network(_Seen):
    feed = Feed.GUARANTEES
    partition = Partition.NETWORK


class _Composite(_Seen):
    partition = Partition.FINDINGS
    namespace = "composite"

    def detect(self, event: Any, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        return [*(state or []), event.entity_id], []


class _Broken(_Seen):
    name = "broken"
    namespace = None

    def detect(self, event: Any, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        raise ZeroDivisionError("boom")


def _backtest(*detectors: Detector) -> Backtest:
    return Backtest(engine=RiskEngine(detectors=list(detectors)))


def test_loans_visit_feed_then_borrower_partition() -> None:
    bt = _backtest(_Seen(), _Borrower())
    list(bt.run([_record("loans", "loan")]))
    assert bt.store.get("seen", "all") == ["loans:feed", "loans:borrower"]


def test_guarantees_visit_the_network_partition() -> None:
    bt = _backtest(_Network())
    list(bt.run([_record("guarantees", "guarantee")]))
    assert bt.store.get("seen", "all") == ["guarantees:network"]


def test_findings_reach_composite_detectors() -> None:
    bt = _backtest(_Seen(), _Composite())
    findings = list(bt.run([_record("loans", "loan")]))
    assert [f.entity_id for f in findings] == ["3f1c9a52-loan-000001"]
    assert bt.store.get("composite", "all") == ["3f1c9a52-loan-000001"]


def test_institution_records_fill_the_registry_and_enrich_findings() -> None:
    bt = _backtest(_Seen())
    (finding,) = list(bt.run([_record("institutions", "institution"), _record("loans", "loan")]))
    assert bt.registry.get("FJ-MC-0007") is not None
    assert (finding.institution_type, finding.region_code) == ("microcredit", "350500")


def test_bad_lines_and_impossible_events_are_counted_not_fatal() -> None:
    loan = json.loads((EXAMPLES / "loan.json").read_text("utf-8"))
    impossible = {**loan, "event_id": "x-1", "days_past_due": 3}
    lines = [
        parse_line(1, "{not json"),
        HistoryRecord("loans", "k", impossible),
        _record("loans", "loan"),
    ]
    bt = _backtest(_Seen())
    findings = list(bt.run(lines))
    assert len(findings) == 1
    assert isinstance(bt.stats.bad_lines[0], BadLine)
    assert bt.stats.invalid_events == [
        ("x-1", "loan MC7-2026-118204: originated with days_past_due=3")
    ]


def test_a_failing_detector_is_reported_and_others_still_run() -> None:
    bt = _backtest(_Broken(), _Seen())
    findings = list(bt.run([_record("loans", "loan")]))
    assert len(findings) == 1
    (failure,) = bt.stats.failures
    assert failure.detector == "broken"
    assert "ZeroDivisionError: boom" in failure.reason


def test_event_time_of_findings_is_the_event_time() -> None:
    bt = _backtest(_Seen())
    (finding,) = list(bt.run([_record("loans", "loan")]))
    assert finding.event_time == datetime.fromisoformat("2026-11-26T10:15:00+08:00")
