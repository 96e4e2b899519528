"""score_borrowers alone: loans re-keyed by borrower are scored in micro-batches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import orjson

from models import Detector, DetectorKind, Feed, Partition
from models.categories import Category
from models.detector import Context
from models.findings import Finding
from tests.stream.agents.kit import DRAIN_SECONDS, Worker, WorkerFactory


class CountingBorrowers(Detector):
    """Counts loans per borrower and records the batch sizes the engine hands it.

    (Its ``detect_batch`` assumes one loan per borrower per batch; the tests keep to that.)
    """

    feed = Feed.LOANS
    categories = (Category.MULTI_LENDER_BORROWING,)
    kind = DetectorKind.NETWORK
    name = "counting_borrowers"
    partition = Partition.BORROWER
    namespace = "counting"

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def state_key(self, event: Any) -> str:
        return str(event.borrower_id)

    def detect(self, event: Any, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        return {"loans": (state or {}).get("loans", 0) + 1}, []

    def detect_batch(
        self, events: Sequence[Any], states: Sequence[Any], ctx: Context
    ) -> list[tuple[Any, list[Finding]]]:
        self.batches.append(len(events))
        return super().detect_batch(events, states, ctx)


def loan(event_id: str, borrower: str) -> bytes:
    return orjson.dumps(
        {
            "event_id": event_id,
            "event_type": "originated",
            "event_time": "2026-11-26T10:15:00+08:00",
            "institution_id": "FJ-MC-0007",
            "loan_id": f"L-{event_id}",
            "borrower_id": borrower,
            "borrower_type": "enterprise",
            "principal": 1_000_000,
            "outstanding": 1_000_000,
            "annual_rate": 0.08,
            "term_days": 180,
            "days_past_due": 0,
        }
    )


def feed(worker: Worker, messages: list[tuple[bytes, bytes, int]]) -> None:
    def processed() -> float:
        count = worker.metrics.get_sample_value(
            "fenghuo_stream_event_processing_seconds_count", {"feed": "loans"}
        )
        return count or 0.0

    async def run() -> None:
        async with worker.agent("score_borrowers").test_context() as agent:
            for key, value, partition in messages:
                await agent.put(key=key, value=value, partition=partition, wait=False)
            deadline = time.monotonic() + DRAIN_SECONDS
            while processed() < len(messages):
                assert time.monotonic() < deadline, f"processed {processed()}"
                await asyncio.sleep(0.01)

    asyncio.run(run())


def test_loans_of_several_partitions_are_scored_in_one_batch(make_worker: WorkerFactory) -> None:
    detector = CountingBorrowers()
    worker = make_worker([detector])

    feed(
        worker,
        [
            (b"B-1", loan("e1", "B-1"), 0),
            (b"B-2", loan("e2", "B-2"), 1),
            (b"B-3", loan("e3", "B-3"), 2),
        ],
    )

    assert detector.batches == [3]
    assert sorted(worker.ctx.state.tables["counting"].data) == ["B-1", "B-2", "B-3"]


def test_a_bad_message_in_a_batch_is_dead_lettered_and_the_rest_scored(
    make_worker: WorkerFactory,
) -> None:
    detector = CountingBorrowers()
    worker = make_worker([detector])

    feed(worker, [(b"B-1", b"[]", 0), (b"B-1", loan("e1", "B-1"), 0)])

    [letter] = worker.dead_letters["loans"].sent
    assert dict(letter["headers"])["fenghuo-reason"].startswith(b"breaks the loans contract")
    assert worker.ctx.state.tables["counting"].data["B-1"] == {"loans": 1}
