"""Claims, leases and re-queueing of outbox rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from alerts import AlertPipeline
from alerts.notify import requeue_dead
from alerts.notify.outbox import OutboxClaims
from alerts.store.tables import outbox
from tests.alerts.conftest import Clock, FindingFactory

LEASE = timedelta(minutes=5)


def _claims(pipeline: AlertPipeline) -> OutboxClaims:
    return OutboxClaims(pipeline.engine, receivers=["eic"], lease=LEASE)


def test_claimed_rows_are_not_claimed_again_within_the_lease(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    store_pipeline.handle(finding())
    claims = _claims(store_pipeline)
    (batch,) = claims.claim(now=clock.now, limit=10)
    assert batch.attempts == (1,)
    assert claims.claim(now=clock.now + LEASE - timedelta(seconds=1), limit=10) == []


def test_expired_lease_is_taken_over_and_the_late_settle_is_ignored(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    store_pipeline.handle(finding())
    claims = _claims(store_pipeline)
    (stale,) = claims.claim(now=clock.now, limit=10)
    (fresh,) = claims.claim(now=clock.now + LEASE, limit=10)
    assert fresh.key == stale.key and fresh.attempts == (2,)
    assert claims.settle(fresh, now=clock.now, done_channels=["webhook:0"], delivered=True) == 1
    late = claims.settle(stale, now=clock.now, done_channels=[], delivered=False, error="late")
    assert late == 0
    with store_pipeline.engine.connect() as conn:
        row = conn.execute(select(outbox).where(outbox.c.receiver == "eic")).one()
    assert row.delivered_at is not None and row.last_error is None


def test_delivered_rows_are_never_claimed_again(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    store_pipeline.handle(finding())
    claims = _claims(store_pipeline)
    (batch,) = claims.claim(now=clock.now, limit=10)
    claims.settle(batch, now=clock.now, done_channels=["webhook:0"], delivered=True)
    assert claims.claim(now=clock.now + timedelta(days=30), limit=10) == []
    assert claims.backlog() == 0


def test_dead_rows_are_kept_and_can_be_requeued_under_the_same_key(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    store_pipeline.handle(finding())
    claims = _claims(store_pipeline)
    (batch,) = claims.claim(now=clock.now, limit=10)
    claims.settle(batch, now=clock.now, done_channels=[], delivered=False, dead=True, error="410")
    assert claims.claim(now=clock.now + timedelta(days=1), limit=10) == []
    assert claims.backlog() == 0
    assert requeue_dead(store_pipeline.engine, now=clock.now, receiver="eic") == 1
    (again,) = claims.claim(now=clock.now, limit=10)
    assert again.key == batch.key and again.attempts == (1,)


def test_only_the_configured_receivers_are_claimed(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock
) -> None:
    store_pipeline.handle(finding())
    batches = _claims(store_pipeline).claim(now=clock.now, limit=10)
    assert [b.receiver for b in batches] == ["eic"]
