"""score_loans alone: findings out, loans re-keyed by borrower, bad input dead-lettered."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from models import Detector, DetectorKind, Feed
from models.categories import Category
from models.detector import Context
from models.findings import Finding
from models.rules import UnlicensedLending, UsuriousRate
from tests.stream.agents.kit import RecordingTopic, Worker, WorkerFactory, run_agent

LENDER = "FJ-MC-0007"


def loan(event_id: str = "loan-1", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "event_id": event_id,
        "event_type": "originated",
        "event_time": "2026-11-26T10:15:00+08:00",
        "institution_id": LENDER,
        "loan_id": f"L-{event_id}",
        "borrower_id": "91350500MA2XXXXXX1",
        "borrower_type": "enterprise",
        "principal": 3_000_000,
        "outstanding": 3_000_000,
        "annual_rate": 0.152,
        "term_days": 180,
        "days_past_due": 0,
    }
    doc.update(changes)
    return doc


class Broken(Detector):
    """A detector with a bug: it raises on every loan."""

    feed = Feed.LOANS
    categories = (Category.LOAN_ANOMALY,)
    kind = DetectorKind.ML
    name = "broken"

    def detect(self, event: Any, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        raise RuntimeError("model file is corrupt")


def feed(worker: Worker, *messages: tuple[bytes, bytes]) -> None:
    run_agent(worker, "score_loans", "loans", messages)


def test_a_usurious_loan_emits_a_finding_keyed_by_its_lender(make_worker: WorkerFactory) -> None:
    worker = make_worker([UsuriousRate()])

    feed(worker, (LENDER.encode(), orjson.dumps(loan())))

    assert [f["category"] for f in worker.findings.values()] == ["usurious_rate"]
    assert worker.findings.sent[0]["key"] == LENDER.encode()
    assert "fenghuo-ingested-at" in worker.findings.headers()[0]


def test_scoring_time_is_measured_per_detector_call_by_stage(make_worker: WorkerFactory) -> None:
    worker = make_worker([UsuriousRate()])

    feed(
        worker, (LENDER.encode(), orjson.dumps(loan())), (LENDER.encode(), orjson.dumps(loan("l2")))
    )

    count = worker.metrics.get_sample_value(
        "fenghuo_stream_scoring_seconds_count", {"stage": "feed"}
    )
    assert count == 2
    idle = {"stage": "borrower"}
    assert worker.metrics.get_sample_value("fenghuo_stream_scoring_seconds_count", idle) == 0


def test_every_valid_loan_is_rekeyed_by_borrower_with_its_original_bytes(
    make_worker: WorkerFactory,
) -> None:
    worker = make_worker([UsuriousRate()])
    raw = orjson.dumps(loan(annual_rate=0.05))

    feed(worker, (LENDER.encode(), raw))

    assert [(m["key"], m["value"]) for m in worker.rekeyed.sent] == [(b"91350500MA2XXXXXX1", raw)]
    assert worker.count("loans", "ok") == 1


def test_a_failing_detector_dead_letters_the_loan_and_the_others_still_report(
    make_worker: WorkerFactory,
) -> None:
    worker = make_worker([Broken(), UsuriousRate()])
    raw = orjson.dumps(loan())

    feed(worker, (LENDER.encode(), raw))

    [letter] = worker.dead_letters["loans"].sent
    reason = dict(letter["headers"])["fenghuo-reason"].decode()
    assert letter["value"] == raw
    assert reason == "detector broken failed on loan-1: RuntimeError: model file is corrupt"
    assert [f["category"] for f in worker.findings.values()] == ["usurious_rate"]
    assert worker.count("loans", "dead_lettered") == 1


def test_bad_input_is_dead_lettered_and_the_next_loan_is_still_scored(
    make_worker: WorkerFactory,
) -> None:
    worker = make_worker([UsuriousRate()])

    feed(
        worker,
        (LENDER.encode(), b"{not json"),
        (LENDER.encode(), orjson.dumps(loan(days_past_due=9))),
        (LENDER.encode(), orjson.dumps(loan("loan-2"))),
    )

    reasons = [
        dict(m["headers"])["fenghuo-reason"].decode() for m in worker.dead_letters["loans"].sent
    ]
    assert [r.split(":")[0] for r in reasons] == ["not JSON", "impossible values"]
    assert [f["entity_id"] for f in worker.findings.values()] == ["L-loan-2"]


def test_a_resent_loan_is_scored_once_and_counted_as_duplicate(
    make_worker: WorkerFactory,
) -> None:
    worker = make_worker([UsuriousRate()])
    raw = orjson.dumps(loan())

    feed(worker, (LENDER.encode(), raw), (LENDER.encode(), raw))

    assert len(worker.findings.sent) == 1
    assert worker.count("loans", "duplicate") == 1


def test_an_error_outside_the_detectors_dead_letters_the_loan(make_worker: WorkerFactory) -> None:
    worker = make_worker([UsuriousRate()])
    worker.ctx.outlets = dataclasses.replace(
        worker.ctx.outlets, findings=RecordingTopic(OSError("disk full"))
    )

    feed(worker, (LENDER.encode(), orjson.dumps(loan())))

    [letter] = worker.dead_letters["loans"].sent
    assert dict(letter["headers"])["fenghuo-reason"] == b"worker failed: OSError: disk full"


def institution(version: int, time: str, status: str) -> bytes:
    return orjson.dumps(
        {
            "event_id": f"inst-{LENDER}-v{version}",
            "event_time": time,
            "institution_id": LENDER,
            "name": "泉州市某小额贷款有限公司",
            "institution_type": "microcredit",
            "region_code": "350500",
            "registered_capital": 200_000_000,
            "net_assets": 236_000_000,
            "license_status": status,
        }
    )


def test_a_loan_is_judged_by_the_licence_in_force_at_its_time(make_worker: WorkerFactory) -> None:
    worker = make_worker([UnlicensedLending()])
    run_agent(
        worker,
        "track_institutions",
        "institutions",
        [
            (LENDER.encode(), institution(1, "2026-11-02T08:00:00+08:00", "active")),
            (LENDER.encode(), institution(2, "2026-11-26T12:00:00+08:00", "suspended")),
        ],
    )

    feed(
        worker,
        (LENDER.encode(), orjson.dumps(loan("before", annual_rate=0.05))),
        (
            LENDER.encode(),
            orjson.dumps(loan("after", annual_rate=0.05, event_time="2026-11-26T13:00:00+08:00")),
        ),
    )

    assert [f["event_ids"] for f in worker.findings.values()] == [["after"]]
