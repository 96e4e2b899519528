"""Detector state in Faust tables: keys set and deleted, and what the changelog flush writes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import faust
import orjson
import pytest
from kafka import KafkaConsumer

from stream.admin import TopicSpec, delete_topics, ensure_topics
from stream.tables import StateTables, declare_state_tables
from tests.helpers import consume, unique_name


def _state(broker: str = "kafka://127.0.0.1:9") -> tuple[faust.App, StateTables]:
    app = faust.App(unique_name("tables-test"), broker=broker, store="memory://")
    return app, StateTables(declare_state_tables(app, {"book": 2}))


def test_delete_forgets_the_key_and_marks_it_for_the_changelog() -> None:
    _, tables = _state()
    tables.tables["book"].data["FJ-1|c|B1"] = 300.0  # as recovered from the changelog
    store = tables.store(1)
    store.delete("book", "FJ-1|c|B1")
    assert store.get("book", "FJ-1|c|B1") is None
    assert tables.pending_keys() == {("book", "FJ-1|c|B1"): 1}


def test_deleting_an_absent_key_logs_nothing() -> None:
    _, tables = _state()
    tables.store(0).delete("book", "FJ-1|c|B9")
    assert tables.pending == 0


def test_a_key_set_through_a_borrower_batch_goes_to_its_own_partition() -> None:
    _, tables = _state()
    tables.store(0, {"B7": 1}).set("book", "B7", {"n": 1})
    assert tables.pending_keys() == {("book", "B7"): 1}


def test_a_sub_key_goes_to_the_partition_of_its_owner() -> None:
    _, tables = _state()
    store = tables.store(0, {"B7": 1})
    store.set("book", "B7|p|L1", [1.0, "x", 0, 1.0])
    store.set("book", "B8|p|L2", [1.0, "x", 0, 1.0])
    assert tables.pending_keys() == {("book", "B7|p|L1"): 1, ("book", "B8|p|L2"): 0}


@pytest.fixture
def changelog(kafka_broker: str) -> Iterator[tuple[str, str]]:
    """An app id and its ``book`` table's changelog topic, created on the broker."""
    app_id = unique_name("tables-test")
    topic = f"{app_id}-state-book-changelog"
    ensure_topics(kafka_broker, [TopicSpec(topic, 2, compacted=True)])
    yield app_id, topic
    delete_topics(kafka_broker, [topic])


@pytest.mark.kafka
def test_flush_writes_changed_keys_once_and_a_tombstone_for_a_deleted_one(
    kafka_broker: str, changelog: tuple[str, str]
) -> None:
    app_id, topic = changelog

    async def flush() -> int:
        # The app is built on the running loop, so its producer runs on it.
        app = faust.App(
            app_id,
            broker=f"kafka://{kafka_broker}",
            store="memory://",
            loop=asyncio.get_running_loop(),
        )
        tables = StateTables(declare_state_tables(app, {"book": 2}))
        assert tables.tables["book"].changelog_topic.get_topic_name() == topic
        store = tables.store(1)
        store.set("book", "FJ-1|p|L1", [300.0, "B1", 0, 1.0])
        store.set("book", "FJ-1|c|B1", 100.0)
        store.set("book", "FJ-1|c|B1", 300.0)
        store.set("book", "FJ-1|c|B2", 5.0)
        store.delete("book", "FJ-1|c|B2")
        await app.producer.start()
        try:
            sent = await tables.flush_async()
            await app.producer.flush()
        finally:
            await app.producer.stop()
        return sent

    assert asyncio.run(flush()) == 3
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka_broker,
        group_id=unique_name("tables-test"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )
    try:
        records = consume(consumer, 3, timeout=30.0)
    finally:
        consumer.close()
    written = {orjson.loads(r.key): r.value for r in records}
    assert {r.partition for r in records} == {1}
    assert orjson.loads(written["FJ-1|c|B1"]) == 300.0
    assert orjson.loads(written["FJ-1|p|L1"]) == [300.0, "B1", 0, 1.0]
    assert written["FJ-1|c|B2"] is None
