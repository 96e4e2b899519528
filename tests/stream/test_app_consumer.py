"""The worker's consumer takes large fetches per partition: a partition of records near the
event size limit is not read a round trip per ~15 records (the flood benchmark's idle time)."""

from __future__ import annotations

import pytest

from stream.app import create_app
from stream.settings import KafkaSection, WorkerSettings

MIB = 1024 * 1024


def test_the_consumer_fetches_4_mib_per_partition_by_default() -> None:
    app = create_app(WorkerSettings(kafka={"app_id": "fenghuo-fetch-default"}))
    assert app.conf.consumer_max_fetch_size == 4 * MIB


def test_the_fetch_size_per_partition_is_configurable() -> None:
    settings = WorkerSettings(
        kafka={"app_id": "fenghuo-fetch-set", "fetch_bytes_per_partition": 8 * MIB}
    )
    assert create_app(settings).conf.consumer_max_fetch_size == 8 * MIB


def test_a_fetch_size_below_64_kib_is_refused() -> None:
    with pytest.raises(ValueError, match="fetch_bytes_per_partition"):
        KafkaSection(fetch_bytes_per_partition=1024)
