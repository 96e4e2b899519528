"""track_institutions alone: the registry holds each institution's latest record."""

from __future__ import annotations

from typing import Any

import orjson

from tests.stream.agents.kit import Worker, WorkerFactory, run_agent


def record(version: int, time: str, status: str = "active") -> dict[str, Any]:
    return {
        "event_id": f"inst-FJ-MC-0007-v{version}",
        "event_time": time,
        "institution_id": "FJ-MC-0007",
        "name": "泉州市某小额贷款有限公司",
        "institution_type": "microcredit",
        "region_code": "350500",
        "registered_capital": 200_000_000,
        "net_assets": 236_000_000,
        "license_status": status,
    }


def feed(worker: Worker, *docs: dict[str, Any]) -> None:
    messages = [(b"FJ-MC-0007", orjson.dumps(doc)) for doc in docs]
    run_agent(worker, "track_institutions", "institutions", messages)


def test_an_institution_record_enters_the_registry(make_worker: WorkerFactory) -> None:
    worker = make_worker()

    feed(worker, record(1, "2026-11-02T08:00:00+08:00"))

    institution = worker.ctx.registry.get("FJ-MC-0007")
    assert institution is not None
    assert institution.net_assets == 236_000_000


def test_a_newer_record_replaces_the_older_one(make_worker: WorkerFactory) -> None:
    worker = make_worker()

    feed(
        worker,
        record(1, "2026-11-02T08:00:00+08:00"),
        record(2, "2026-11-20T08:00:00+08:00", status="suspended"),
    )

    institution = worker.ctx.registry.get("FJ-MC-0007")
    assert institution is not None and institution.license_status == "suspended"


def test_a_late_older_record_does_not_replace_a_newer_one(make_worker: WorkerFactory) -> None:
    worker = make_worker()

    feed(
        worker,
        record(2, "2026-11-20T08:00:00+08:00", status="suspended"),
        record(1, "2026-11-02T08:00:00+08:00"),
    )

    institution = worker.ctx.registry.get("FJ-MC-0007")
    assert institution is not None and institution.license_status == "suspended"
