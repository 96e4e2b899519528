"""The flood benchmark: its run order, its table, and one tiny run on the test broker.

Nothing here asserts a speed; ``tests/reliability/test_flood.py`` asserts the behaviour.
"""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from benchmarks._paced_flood import paced_inputs, summarise
from benchmarks.flood import (
    FloodConfig,
    _order,
    dead_letter_costs,
    render_costs,
    render_flood,
    run_flood,
)
from fenghuo.cli import main
from stream.simulator.hostile import HOSTILE_KINDS
from stream.simulator.malformed import KINDS as MALFORMED_KINDS


@pytest.mark.parametrize(
    ("rounds", "order"),
    [
        (1, ["baseline", "flood"]),
        (2, ["baseline", "flood", "flood", "baseline"]),
        (3, ["baseline", "flood", "flood", "baseline", "baseline", "flood"]),
    ],
)
def test_runs_alternate_so_a_drifting_load_favours_neither_side(
    rounds: int, order: list[str]
) -> None:
    assert _order(rounds) == order


def run_figures(kind: str, seconds: float, dead: int) -> dict[str, Any]:
    return {
        "kind": kind,
        "messages": 200 if kind == "flood" else 100,
        "seconds": seconds,
        "good_events_per_second": round(100 / seconds, 1),
        "all_events_per_second": round((200 if kind == "flood" else 100) / seconds, 1),
        "dead_letters": dead,
        "alerts": 3,
    }


def paced_figures(kind: str, rate: float) -> dict[str, Any]:
    latency = {"p50": 0.03, "p95": 0.1, "p99": 0.2, "max": 0.3}
    return {
        "kind": kind,
        "good_events_per_second": rate,
        "catch_up_seconds": 0.4,
        "first_stage_latency_seconds": latency,
        "opened_alerts": 3,
        "event_to_alert_seconds": latency,
    }


def test_the_table_shows_each_run_and_the_verdict() -> None:
    results = {
        "runs": [run_figures("baseline", 2.0, 0), run_figures("flood", 2.5, 100)],
        "good_events": 100,
        "hostile_events": 100,
        "baseline_good_events_per_second": 50.0,
        "flood_good_events_per_second": 40.0,
        "good_rate_ratio": 0.8,
        "median_good_events_per_second": {"baseline": 50.0, "flood": 40.0},
        "good_rate_ratio_of_medians": 0.8,
        "alerts_only_in_baseline": [],
        "alerts_only_in_flood": ["model_drift:-:loan_anomaly"],
        "paced": {
            "offered_good_events_per_second": 300.0,
            "runs": [paced_figures("baseline", 299.5), paced_figures("flood", 296.5)],
            "median_good_events_per_second": {"baseline": 299.5, "flood": 296.5},
            "good_rate_ratio": 0.99,
            "good_rate_holds": True,
        },
        "verdict": {
            "good_rate_holds": True,
            "good_rate_holds_saturated": True,
            "target_ratio": 0.8,
            "every_hostile_dead_lettered": True,
            "same_alerts": False,
        },
    }

    table = render_flood(results)

    assert "2. flood" in table and "40.0" in table
    assert "ratio of medians 0.8 (saturated; at >= 0.8: True)" in table
    assert "paced at 300 good events/s offered:" in table
    assert "2. flood: 296.5 good ev/s, caught up 0.4 s after the last send" in table
    assert "ratio 0.99 (holds at >= 0.8: True)" in table
    assert "only in flood: model_drift:-:loan_anomaly" in table
    assert "only in baseline" not in table


def test_dead_letter_costs_time_every_hostile_kind_and_a_good_event() -> None:
    costs = dead_letter_costs(events=60, sample=20, repeats=1)

    plain = {kind for kind in costs if not kind.startswith("malformed: ")}
    assert plain == {"good", *HOSTILE_KINDS} - set(MALFORMED_KINDS)
    assert any(kind.startswith("malformed: ") for kind in costs)
    assert all(c["records"] > 0 and c["dead_letter_us"] > 0 for c in costs.values())


def test_the_costs_table_has_a_row_per_kind() -> None:
    costs = {
        "good": {"records": 20, "decode_us": 40.0, "dead_letter_us": 40.0},
        "oversized": {"records": 20, "decode_us": 5.0, "dead_letter_us": 21.5},
    }

    lines = render_costs(costs).splitlines()

    assert lines[0].split() == ["kind", "records", "decode", "µs", "dead", "letter", "µs"]
    assert lines[2].split() == ["oversized", "20", "5.0", "21.5"]


@pytest.mark.kafka
def test_one_round_on_the_test_broker_dead_letters_every_hostile_record(
    kafka_broker: str,
) -> None:
    config = FloodConfig(
        events=300, rounds=1, core=None, bootstrap=kafka_broker, paced_rate=100, paced_seconds=6
    )
    results = run_flood(config)

    flooded = next(run for run in results["runs"] if run["kind"] == "flood")
    assert flooded["dead_letters"] == results["hostile_events"] == results["good_events"]
    assert results["verdict"]["baseline_dead_letters_zero"]
    assert results["good_rate_ratio"] > 0
    assert results["config"]["bootstrap"] == "given"
    assert "empty" in results["dead_letter_costs"]
    paced = results["paced"]
    assert [run["kind"] for run in paced["runs"]] == ["baseline", "flood"]
    for run in paced["runs"]:
        assert run["good_events"] == 600 and run["good_events_per_second"] > 0
        # every good loan was re-keyed by the first stage, and timed
        assert run["rekeyed_loans"] == 400 and run["first_stage_latency_seconds"]["p50"] > 0
    assert results["verdict"]["good_rate_holds"] == paced["good_rate_holds"]


def test_paced_inputs_interleave_the_good_events_with_the_flood() -> None:
    good, flooded, count = paced_inputs(FloodConfig(paced_rate=50, paced_seconds=4))

    assert count == len(good) == 200
    assert len(flooded) == 400
    assert [m for m in flooded if not m.event_id.startswith("hostile-")] == good
    assert len({m.event_id for m in flooded}) == 400


def test_paced_runs_hold_when_the_flood_keeps_the_median_good_rate() -> None:
    runs = [
        {"kind": "baseline", "good_events_per_second": 300.0},
        {"kind": "flood", "good_events_per_second": 297.0},
        {"kind": "flood", "good_events_per_second": 150.0},
        {"kind": "baseline", "good_events_per_second": 299.0},
        {"kind": "flood", "good_events_per_second": 296.0},
    ]

    assert summarise(runs, 0.8) == {
        "median_good_events_per_second": {"baseline": 299.5, "flood": 296.0},
        "good_rate_ratio": 0.988,
        "good_rate_holds": True,
    }
    assert not summarise(runs[:3:2], 0.8)["good_rate_holds"]  # 150 against 300


def test_bench_flood_is_wired_to_the_flood_benchmark() -> None:
    result = CliRunner().invoke(main, ["bench", "--help"], terminal_width=200)

    assert "--flood" in result.output
    assert "(benchmarks/flood.py; results-flood.json)" in result.output
