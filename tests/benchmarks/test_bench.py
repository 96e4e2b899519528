"""``fenghuo bench`` end to end on the test broker, on a tiny preload: it runs and writes a
results document with every figure filled. Nothing here asserts a speed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks._floor import Tally
from fenghuo.cli import main

pytestmark = pytest.mark.kafka


def test_bench_writes_the_ceiling_the_floor_and_the_worker_rate(
    kafka_broker: str, tmp_path: Path
) -> None:
    out = tmp_path / "results.json"
    args = ["bench", "-n", "400", "--no-latency", "--no-scale", "--no-scaling", "--core", "-1",
            "--bootstrap", kafka_broker, "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    throughput = doc["throughput"]
    assert throughput["ceiling"]["events"] == throughput["events"]
    floor = throughput["framework_floor"]
    assert floor["events"] == throughput["events"]
    assert floor["events_per_second"] > 0 and floor["cpu_seconds"] > 0
    assert throughput["ratio_to_floor"] == pytest.approx(
        throughput["worker"]["events_per_second"] / floor["events_per_second"], abs=1e-3
    )
    assert throughput["worker"]["events_per_second"] > 0
    assert throughput["worker"]["peak_rss_bytes"] > 0
    assert set(doc["machine"]) >= {"cpu_model", "cores", "python", "kafka_version"}
    assert "one worker, sustained" in result.output
    assert "Faust agents doing nothing (floor)" in result.output
    assert doc["verdict"]["events_per_second"]["framework_floor"] == floor["events_per_second"]


def test_the_floor_clock_starts_at_the_assignment_not_at_the_first_batch() -> None:
    tally = Tally(expected=10)
    tally.start()
    started = tally.first
    time.sleep(0.02)
    tally.add(10)  # the first batch, after events already read in place
    tally.start()  # a later rebalance does not restart the clocks

    assert tally.first == started
    assert tally.result()["seconds"] >= 0.02
