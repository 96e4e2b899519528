"""The outbox dispatcher on SQLite and PostgreSQL; a real receiver fails, then recovers."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from alerts import AlertPipeline, RoutingTree, StoreConfig, make_engine
from alerts.notify import DeliveryConfig, DeliveryMetrics, OutboxDispatcher, verify_signature
from alerts.store.tables import outbox
from tests.alerts.conftest import Clock, FindingFactory
from tests.alerts.notify.conftest import Receiver

SECRET = "eic-secret"


def delivery(receiver: Receiver, **changes: Any) -> DeliveryConfig:
    """Webhooks for ``eic`` only (a medium microcredit alert reaches eic and the division)."""
    doc: dict[str, Any] = {
        "receivers": {"eic": {"webhooks": [{"url": receiver.url + "/hook", "secret": SECRET}]}},
        "retry": {"max_attempts": 5, "initial": "10s", "max": "5m", "jitter": 0.2},
        "grouping": False,
    }
    doc.update(changes)
    return DeliveryConfig.model_validate(doc)


def open_alerts(pipeline: AlertPipeline, finding: FindingFactory, count: int) -> None:
    for n in range(count):
        pipeline.handle(finding(entity_id=f"L-{n:04d}", event_ids=(f"e{n}",), minutes=n))


def rows(pipeline: AlertPipeline, receiver: str = "eic") -> list[Any]:
    with pipeline.engine.connect() as conn:
        return list(
            conn.execute(
                select(outbox).where(outbox.c.receiver == receiver).order_by(outbox.c.id)
            ).all()
        )


def delivered_event_ids(receiver: Receiver) -> list[str]:
    return [e["id"] for r in receiver.accepted() for e in r.json()["events"]]


def drain(dispatcher: OutboxDispatcher, clock: Clock, *, rounds: int, step: timedelta) -> None:
    for _ in range(rounds):
        asyncio.run(dispatcher.run_once())
        clock.now += step


def test_receiver_failing_then_recovering_gets_everything_exactly_once(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock, receiver: Receiver
) -> None:
    open_alerts(store_pipeline, finding, 5)
    receiver.fail_first = 3
    dispatcher = OutboxDispatcher(store_pipeline.engine, delivery(receiver), clock=clock)
    drain(dispatcher, clock, rounds=8, step=timedelta(minutes=5))
    expected = sorted(r.payload["id"] for r in rows(store_pipeline))
    assert len(expected) == 5
    assert sorted(delivered_event_ids(receiver)) == expected
    keys = Counter(r.headers["fenghuo-idempotency-key"] for r in receiver.accepted())
    assert set(keys.values()) == {1}
    assert all(r.delivered_at is not None and r.last_error is None for r in rows(store_pipeline))


def test_a_retry_sends_the_same_body_under_the_same_key(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock, receiver: Receiver
) -> None:
    open_alerts(store_pipeline, finding, 1)
    receiver.fail_first = 1
    dispatcher = OutboxDispatcher(store_pipeline.engine, delivery(receiver), clock=clock)
    drain(dispatcher, clock, rounds=2, step=timedelta(minutes=1))
    first, second = receiver.requests
    assert first.headers["fenghuo-idempotency-key"] == second.headers["fenghuo-idempotency-key"]
    assert first.body == second.body
    verify_signature(SECRET, second.headers["fenghuo-signature"], second.body, 300, now=time.time())


def test_failed_delivery_waits_for_its_backoff(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock, receiver: Receiver
) -> None:
    open_alerts(store_pipeline, finding, 1)
    receiver.fail_first = 1
    dispatcher = OutboxDispatcher(
        store_pipeline.engine, delivery(receiver), clock=clock, rng=random.Random(1)
    )
    asyncio.run(dispatcher.run_once())
    (row,) = rows(store_pipeline)
    wait = row.next_attempt_at - clock.now
    assert timedelta(seconds=8) <= wait <= timedelta(seconds=12)  # 10 s ± 20 %
    assert row.attempts == 1 and "HTTP 503" in row.last_error
    clock.now += wait - timedelta(seconds=1)
    asyncio.run(dispatcher.run_once())
    assert len(receiver.requests) == 1
    clock.now += timedelta(seconds=1)
    asyncio.run(dispatcher.run_once())
    assert len(receiver.accepted()) == 1


def test_backoff_doubles_up_to_the_maximum(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock, receiver: Receiver
) -> None:
    open_alerts(store_pipeline, finding, 1)
    receiver.fail_first = 100
    config = delivery(
        receiver, retry={"max_attempts": 10, "initial": "10s", "max": "1m", "jitter": 0}
    )
    dispatcher = OutboxDispatcher(store_pipeline.engine, config, clock=clock)
    waits = []
    for _ in range(5):
        asyncio.run(dispatcher.run_once())
        (row,) = rows(store_pipeline)
        waits.append((row.next_attempt_at - clock.now).total_seconds())
        clock.now = row.next_attempt_at
    assert waits == [10, 20, 40, 60, 60]


def test_gives_up_after_max_attempts_and_keeps_the_row_visible(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock, receiver: Receiver
) -> None:
    open_alerts(store_pipeline, finding, 1)
    receiver.fail_first = 100
    config = delivery(receiver, retry={"max_attempts": 3, "initial": "1s", "max": "1s"})
    dispatcher = OutboxDispatcher(store_pipeline.engine, config, clock=clock)
    drain(dispatcher, clock, rounds=6, step=timedelta(minutes=1))
    (row,) = rows(store_pipeline)
    assert len(receiver.requests) == 3
    assert row.dead_at is not None and row.delivered_at is None
    assert row.attempts == 3 and "HTTP 503" in row.last_error


def test_permanent_refusal_is_dead_at_once(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock, receiver: Receiver
) -> None:
    open_alerts(store_pipeline, finding, 1)
    receiver.fail_first, receiver.fail_status = 1, 410
    dispatcher = OutboxDispatcher(store_pipeline.engine, delivery(receiver), clock=clock)
    drain(dispatcher, clock, rounds=3, step=timedelta(hours=1))
    (row,) = rows(store_pipeline)
    assert len(receiver.requests) == 1
    assert row.dead_at is not None and "HTTP 410" in row.last_error


def test_channel_already_done_is_not_sent_again_on_retry(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock, receiver: Receiver
) -> None:
    open_alerts(store_pipeline, finding, 1)
    receiver.fail_first, receiver.fail_path = 1, "/api/v2/alerts"
    config = delivery(
        receiver,
        receivers={
            "eic": {
                "webhooks": [{"url": receiver.url + "/hook", "secret": SECRET}],
                "alertmanager": [{"url": receiver.url}],
            }
        },
    )
    dispatcher = OutboxDispatcher(store_pipeline.engine, config, clock=clock)
    drain(dispatcher, clock, rounds=3, step=timedelta(minutes=5))
    paths = Counter(r.path for r in receiver.requests)
    assert paths == {"/hook": 1, "/api/v2/alerts": 2}
    (row,) = rows(store_pipeline)
    assert row.delivered_at is not None
    assert row.done_channels == ["alertmanager:0", "webhook:0"]


def test_receivers_without_channels_stay_queued(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock, receiver: Receiver
) -> None:
    open_alerts(store_pipeline, finding, 2)
    dispatcher = OutboxDispatcher(store_pipeline.engine, delivery(receiver), clock=clock)
    drain(dispatcher, clock, rounds=2, step=timedelta(minutes=5))
    division = rows(store_pipeline, "office.banking_insurance")
    assert len(division) == 2
    assert all(r.delivered_at is None and r.attempts == 0 for r in division)


def test_alerts_of_one_group_are_batched_after_group_wait(
    store_pipeline: AlertPipeline,
    finding: FindingFactory,
    clock: Clock,
    receiver: Receiver,
    routing: RoutingTree,
) -> None:
    """Same category and institution: one group on the sector route (group_wait 30 s)."""
    open_alerts(store_pipeline, finding, 3)
    config = delivery(receiver, grouping=True)
    dispatcher = OutboxDispatcher(store_pipeline.engine, config, routing=routing, clock=clock)
    asyncio.run(dispatcher.run_once())
    assert receiver.requests == []
    clock.now += timedelta(seconds=30)
    asyncio.run(dispatcher.run_once())
    (batch,) = receiver.requests
    assert len(batch.json()["events"]) == 3


def test_alert_joining_a_waiting_group_goes_out_with_it(
    store_pipeline: AlertPipeline,
    finding: FindingFactory,
    clock: Clock,
    receiver: Receiver,
    routing: RoutingTree,
) -> None:
    store_pipeline.handle(finding(entity_id="L-0001", event_ids=("e1",)))
    dispatcher = OutboxDispatcher(
        store_pipeline.engine, delivery(receiver, grouping=True), routing=routing, clock=clock
    )
    asyncio.run(dispatcher.run_once())
    clock.now += timedelta(seconds=20)
    store_pipeline.handle(finding(entity_id="L-0002", event_ids=("e2",)))
    asyncio.run(dispatcher.run_once())
    clock.now += timedelta(seconds=10)
    asyncio.run(dispatcher.run_once())
    (batch,) = receiver.requests
    assert [e["data"]["entity_id"] for e in batch.json()["events"]] == ["L-0001", "L-0002"]


def test_next_batch_of_a_group_waits_group_interval(
    store_pipeline: AlertPipeline,
    finding: FindingFactory,
    clock: Clock,
    receiver: Receiver,
    routing: RoutingTree,
) -> None:
    open_alerts(store_pipeline, finding, 1)
    config = delivery(receiver, grouping=True)
    dispatcher = OutboxDispatcher(store_pipeline.engine, config, routing=routing, clock=clock)
    clock.now += timedelta(seconds=30)
    asyncio.run(dispatcher.run_once())
    store_pipeline.handle(finding(entity_id="L-0100", event_ids=("e100",)))
    clock.now += timedelta(minutes=4)
    asyncio.run(dispatcher.run_once())
    assert len(receiver.requests) == 1
    clock.now += timedelta(minutes=1)
    asyncio.run(dispatcher.run_once())
    assert len(receiver.requests) == 2
    assert [e["data"]["entity_id"] for e in receiver.requests[1].json()["events"]] == ["L-0100"]


def test_two_dispatchers_racing_deliver_each_row_once(
    store_pipeline: AlertPipeline,
    finding: FindingFactory,
    clock: Clock,
    receiver: Receiver,
    store_url: str,
) -> None:
    open_alerts(store_pipeline, finding, 40)
    config = delivery(receiver, batch_size=5)
    engines = [make_engine(StoreConfig(url=store_url, migrate=False)) for _ in range(2)]
    racers = [OutboxDispatcher(e, config, clock=clock) for e in engines]

    delivered = [0, 0]

    async def race() -> None:
        for _ in range(12):
            rounds = await asyncio.gather(*(r.run_once() for r in racers))
            for n, done in enumerate(rounds):
                delivered[n] += done.delivered

    try:
        asyncio.run(race())
    finally:
        for e in engines:
            e.dispose()
    ids = delivered_event_ids(receiver)
    assert len(ids) == 40 and len(set(ids)) == 40
    assert sum(delivered) == 40 and min(delivered) > 0  # both took part
    assert all(r.delivered_at is not None for r in rows(store_pipeline))


def test_metrics_count_outcomes_and_backlog(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock, receiver: Receiver
) -> None:
    open_alerts(store_pipeline, finding, 2)
    receiver.fail_first = 2
    registry = CollectorRegistry()
    metrics = DeliveryMetrics(registry, ["eic"])
    dispatcher = OutboxDispatcher(
        store_pipeline.engine, delivery(receiver), clock=clock, metrics=metrics
    )
    asyncio.run(dispatcher.run_once())
    labels = {"receiver": "eic", "channel": "webhook"}
    assert (
        registry.get_sample_value(
            "fenghuo_alerts_deliveries_total", {**labels, "outcome": "failed"}
        )
        == 2
    )
    assert registry.get_sample_value("fenghuo_alerts_outbox_backlog") == 2
    clock.now += timedelta(minutes=1)
    asyncio.run(dispatcher.run_once())
    assert (
        registry.get_sample_value(
            "fenghuo_alerts_deliveries_total", {**labels, "outcome": "delivered"}
        )
        == 2
    )
    assert registry.get_sample_value("fenghuo_alerts_outbox_backlog") == 0


def test_run_delivers_until_stopped(
    store_pipeline: AlertPipeline, finding: FindingFactory, clock: Clock, receiver: Receiver
) -> None:
    open_alerts(store_pipeline, finding, 2)
    config = delivery(receiver, poll_interval="1s")
    dispatcher = OutboxDispatcher(store_pipeline.engine, config, clock=clock)

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        deadline = time.monotonic() + 10
        while len(receiver.accepted()) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        await dispatcher.aclose()

    asyncio.run(main())
    assert len(delivered_event_ids(receiver)) == 2


def test_unknown_receiver_in_delivery_config_is_refused(
    receiver: Receiver, routing: RoutingTree, store_pipeline: AlertPipeline
) -> None:
    config = delivery(
        receiver, receivers={"ecc": {"webhooks": [{"url": receiver.url, "secret": SECRET}]}}
    )
    with pytest.raises(ValueError, match="unknown receivers \\['ecc'\\]"):
        OutboxDispatcher(store_pipeline.engine, config, routing=routing)
