"""Latency arithmetic of the benchmark: which event an alert is timed from, and quantiles."""

from __future__ import annotations

import math

import pytest

from benchmarks._latency import histogram_quantile, opened_latencies, percentile


def alert(kind: str, *event_ids: str) -> dict[str, object]:
    return {"type": f"fenghuo.alert.{kind}", "data": {"event_ids": list(event_ids)}}


def test_opened_alert_is_timed_from_its_latest_event_sent_before_it() -> None:
    sent = {"e1": 10.0, "e2": 10.5, "e3": 99.0}
    assert opened_latencies([(10.8, alert("opened", "e1", "e2", "e3"))], sent) == [
        pytest.approx(0.3)
    ]


def test_updated_alerts_are_not_timed() -> None:
    assert opened_latencies([(11.0, alert("updated", "e1"))], {"e1": 10.0}) == []


def test_alert_of_events_not_sent_by_the_run_is_not_timed() -> None:
    assert opened_latencies([(11.0, alert("opened", "other"))], {"e1": 10.0}) == []


@pytest.mark.parametrize(("q", "expected"), [(0.5, 50.0), (0.95, 95.0), (0.99, 99.0), (1.0, 100.0)])
def test_percentile_is_nearest_rank(q: float, expected: float) -> None:
    assert percentile([float(v) for v in range(100, 0, -1)], q) == expected


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 0.99) is None


def test_histogram_quantile_interpolates_within_the_bucket() -> None:
    buckets = {0.1: 50.0, 0.2: 100.0, math.inf: 100.0}
    assert histogram_quantile(buckets, 0.75) == pytest.approx(0.15)


def test_histogram_quantile_in_the_open_bucket_is_its_lower_edge() -> None:
    assert histogram_quantile({0.1: 0.0, math.inf: 10.0}, 0.99) == pytest.approx(0.1)


def test_empty_histogram_has_no_quantile() -> None:
    assert histogram_quantile({0.1: 0.0, math.inf: 0.0}, 0.5) is None


def test_the_paced_producer_checksums_records_in_c() -> None:
    # In pure Python kafka-python took 13 ms to checksum a 64 KiB record: the flood's oversized
    # records then held back the good events sent after them, and that showed as latency.
    from kafka.record import util

    assert util.crc32c_c is not None
    assert util.calc_crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
