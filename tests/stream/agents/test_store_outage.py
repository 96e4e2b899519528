"""Regression (docs/reliability.md, "alerts lost while the alert store is down"): the alert
stage waits for the store to come back instead of dead-lettering the finding."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts import AlertsConfig, StoreConfig
from alerts.store.tables import alerts
from tests.stream.agents.kit import WorkerFactory
from tests.stream.agents.test_findings import finding


def test_findings_wait_for_a_locked_store_and_still_become_alerts(
    make_worker: WorkerFactory, tmp_path: Path
) -> None:
    db = tmp_path / "alerts.db"
    store = StoreConfig(url=f"sqlite:///{db.as_posix()}", busy_timeout_ms=50)
    worker = make_worker(alerts_config=AlertsConfig(store=store))
    sink = worker.ctx.alerts
    locked = threading.Event()
    release = threading.Event()

    def hold_the_store() -> None:
        conn = sqlite3.connect(db, timeout=0)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(10)
        conn.rollback()
        conn.close()

    async def scenario() -> int:
        engine = await sink.store_engine()  # migrate before the outage
        assert engine is not None
        holder = threading.Thread(target=hold_the_store)
        holder.start()
        locked.wait(5)
        pending = asyncio.ensure_future(sink.handle([finding()], ingested_at=None))
        deadline = time.monotonic() + 10
        while worker.metrics.get_sample_value("fenghuo_stream_alert_store_retries_total") in (
            None,
            0.0,
        ):
            assert time.monotonic() < deadline, "the store call was never retried"
            await asyncio.sleep(0.05)
        assert not pending.done()
        release.set()
        changes = await asyncio.wait_for(pending, timeout=20)
        holder.join()
        return changes

    try:
        assert asyncio.run(scenario()) == 1
        with Session(asyncio.run(sink.store_engine())) as session:
            assert session.scalar(select(func.count()).select_from(alerts)) == 1
    finally:
        sink.close()
    assert worker.alerts.values()[0]["data"]["category"] == "usurious_rate"
    assert all(not letters.sent for letters in worker.dead_letters.values())
