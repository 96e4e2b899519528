"""Detector state in Faust tables: keys set and deleted, and what the changelog flush writes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import faust
import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

from models.book_repair import repair_books
from stream.admin import TopicSpec, delete_topics, ensure_topics
from stream.tables import StateTables, changelog_key, declare_state_tables
from tests.helpers import consume, unique_name, wait_for


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


def test_a_key_changed_in_an_open_section_is_held_back_from_the_changelog() -> None:
    _, tables = _state()
    section = tables.section()
    tables.store(1, section=section).set("book", "FJ-1|c|B1", 100.0)
    assert tables.pending == 0
    assert tables.flush() == 0


def test_a_released_key_is_logged_with_its_value_at_release_not_a_later_held_change() -> None:
    _, tables = _state()
    first, later = tables.section(), tables.section()
    tables.store(1, section=first).set("book", "FJ-1|c|B1", 100.0)
    first.release()
    tables.store(1, section=later).set("book", "FJ-1|c|B1", 250.0)  # its findings not sent
    assert tables.pending_keys() == {("book", "FJ-1|c|B1"): 1}
    [(_, partition, key, value, encoded)] = tables._take()
    assert (partition, key, encoded) == (1, "FJ-1|c|B1", True)
    assert value is not None and orjson.loads(value) == 100.0


def test_a_key_deleted_in_a_released_section_is_owed_as_a_tombstone() -> None:
    _, tables = _state()
    tables.tables["book"].data["FJ-1|c|B2"] = 5.0
    section = tables.section()
    tables.store(0, section=section).delete("book", "FJ-1|c|B2")
    section.release()
    [(_, partition, key, value, _)] = tables._take()
    assert (partition, key, value) == (0, "FJ-1|c|B2", None)


def test_a_key_is_written_to_the_changelog_as_faust_writes_it() -> None:
    """Records of the queue and of Faust's own path must compact and recover as one key."""
    _, tables = _state()
    table = tables.tables["book"]
    for key in ("FJ-1|p|LN1", "福州|c|B1", 'quote"d'):
        faust_key, _ = table.changelog_topic.prepare_key(key, table.key_serializer)
        assert changelog_key(key) == faust_key


def changelog_records(broker: str, topic: str, count: int) -> list[Any]:
    """The first ``count`` records of a changelog topic, read from its beginning.

    Its partitions are assigned, not subscribed to: a group joined before the consumer had the
    topic's metadata was assigned nothing (seen on a loaded machine).
    """
    consumer = KafkaConsumer(bootstrap_servers=broker, enable_auto_commit=False)
    try:
        partitions = wait_for(lambda: consumer.partitions_for_topic(topic), timeout=30.0)
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        return consume(consumer, count, timeout=30.0)
    finally:
        consumer.close()


@pytest.fixture
def changelog(kafka_broker: str) -> Iterator[tuple[str, str]]:
    """An app id and its ``book`` table's changelog topic, created on the broker."""
    app_id = unique_name("tables-test")
    topic = f"{app_id}-state-book-changelog"
    ensure_topics(kafka_broker, [TopicSpec(topic, 2, compacted=True)])
    yield app_id, topic
    delete_topics(kafka_broker, [topic])


def flush_on_broker(broker: str, app_id: str, change: Callable[[StateTables], None]) -> int:
    """Build the tables on a running loop (so the producer runs on it), apply ``change`` and
    flush through the app's producer."""

    async def flush() -> int:
        app = faust.App(
            app_id, broker=f"kafka://{broker}", store="memory://", loop=asyncio.get_running_loop()
        )
        tables = StateTables(declare_state_tables(app, {"book": 2}))
        change(tables)
        await app.producer.start()
        try:
            sent = await tables.flush_async(app.producer)
            await app.producer.flush()
        finally:
            await app.producer.stop()
        return sent

    return asyncio.run(flush())


@pytest.mark.kafka
def test_flush_writes_changed_keys_once_and_a_tombstone_for_a_deleted_one(
    kafka_broker: str, changelog: tuple[str, str]
) -> None:
    app_id, topic = changelog

    def change(tables: StateTables) -> None:
        assert tables.tables["book"].changelog_topic.get_topic_name() == topic
        store = tables.store(1)
        store.set("book", "FJ-1|p|L1", [300.0, "B1", 0, 1.0])
        store.set("book", "FJ-1|c|B1", 100.0)
        store.set("book", "FJ-1|c|B1", 300.0)
        store.set("book", "FJ-1|c|B2", 5.0)
        store.delete("book", "FJ-1|c|B2")

    assert flush_on_broker(kafka_broker, app_id, change) == 3
    records = changelog_records(kafka_broker, topic, 3)
    written = {orjson.loads(r.key): r.value for r in records}
    assert {r.partition for r in records} == {1}
    assert orjson.loads(written["FJ-1|c|B1"]) == 300.0
    assert orjson.loads(written["FJ-1|p|L1"]) == [300.0, "B1", 0, 1.0]
    assert written["FJ-1|c|B2"] is None


@pytest.mark.kafka
def test_flush_logs_the_released_snapshot_after_delivering_what_the_producer_holds(
    kafka_broker: str, changelog: tuple[str, str]
) -> None:
    app_id, topic = changelog

    def change(tables: StateTables) -> None:
        released, held = tables.section(), tables.section()
        tables.store(0, section=released).set("book", "FJ-2|c|B1", {"n": 1})
        released.release()
        tables.store(0, section=held).set("book", "FJ-2|c|B1", {"n": 2})

    assert flush_on_broker(kafka_broker, app_id, change) == 1
    [record] = changelog_records(kafka_broker, topic, 1)
    assert orjson.loads(record.key) == "FJ-2|c|B1"
    assert orjson.loads(record.value) == {"n": 1}


def _lost_summary(tables: StateTables, owner: str, partition: int | None) -> None:
    """A book recovered with its position but not the summary that position moved."""
    data = tables.tables["book"].data
    data[owner] = {"related": 0.0, "total": 0.0, "closings": 0}
    data[f"{owner}|p|L1"] = [300.0, "B1", 0, 1.0]
    data[f"{owner}|c|B1"] = 300.0
    if partition is not None:
        for key in (owner, f"{owner}|p|L1", f"{owner}|c|B1"):
            data._key_partition[key] = partition  # as Faust's recovery records it


def test_a_repair_rewrites_a_recovered_book_and_logs_it_to_its_partition() -> None:
    _, tables = _state()
    _lost_summary(tables, "FJ-1", partition=1)

    [fix] = tables.repair("book", repair_books)

    assert fix.owner == "FJ-1"
    assert tables.tables["book"].data["FJ-1"]["total"] == 300.0
    [(_, partition, key, value, encoded)] = tables._take()
    assert (partition, key, encoded) == (1, "FJ-1", True)
    assert value is not None and orjson.loads(value)["total"] == 300.0


def test_a_book_never_read_from_the_changelog_is_left_alone() -> None:
    _, tables = _state()
    _lost_summary(tables, "FJ-1", partition=None)

    assert tables.repair("book", repair_books) == []
    assert tables.pending == 0
