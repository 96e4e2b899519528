"""``fenghuo simulate`` and ``fenghuo replay`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fenghuo.cli import main
from models.history import BadLine, labels_path_for, parse_line, read_history, read_labels
from stream.settings import WorkerSettings
from stream.simulator.producer import feed_topics
from tests.fixtures.kafka import ConsumerFactory
from tests.helpers import consume, unique_name


def test_simulate_writes_a_history_and_its_labels(tmp_path: Path) -> None:
    out = tmp_path / "h.jsonl"
    args = [
        "simulate",
        "--seed",
        "3",
        "--institutions",
        "60",
        "--duration",
        "500000",
        "--scenarios",
        "usurious_rate=2",
        "--out",
        str(out),
        "--quiet",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["topic"] == "institutions"
    assert {line["topic"] for line in lines} == {"institutions", "loans", "guarantees", "trades"}
    assert len(read_labels(labels_path_for(out))) == 2
    assert "records ->" in result.output


def test_simulate_needs_somewhere_to_put_the_records() -> None:
    result = CliRunner().invoke(main, ["simulate", "--events", "10"])
    assert result.exit_code != 0
    assert "--out" in result.output


def test_simulate_refuses_a_malformed_scenario_mix(tmp_path: Path) -> None:
    args = [
        "simulate",
        "--events",
        "10",
        "--scenarios",
        "wash_trade",
        "--out",
        str(tmp_path / "h.jsonl"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert "CATEGORY=COUNT" in result.output


@pytest.mark.kafka
def test_replay_skips_and_reports_bad_lines(
    tmp_path: Path, kafka_broker: str, kafka_consumer: ConsumerFactory
) -> None:
    history = tmp_path / "h.jsonl"
    simulate = [
        "simulate",
        "--seed",
        "4",
        "--institutions",
        "60",
        "--events",
        "300",
        "--scenarios",
        "0",
        "--out",
        str(history),
        "--quiet",
    ]
    assert CliRunner().invoke(main, simulate).exit_code == 0
    good = history.read_text(encoding="utf-8").splitlines()
    bad = [
        "{not json",
        json.dumps({"topic": "nowhere", "key": "x", "value": {}}),
        json.dumps({"topic": "loans", "key": "x", "value": {"event_id": "e"}}),
    ]
    history.write_text("\n".join(good[:100] + bad + good[100:]) + "\n", encoding="utf-8")
    suffix = "-" + unique_name("replay")
    result = CliRunner().invoke(
        main,
        ["replay", str(history), "--bootstrap", kafka_broker, "--topic-suffix", suffix, "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert "300 records produced; 3 bad lines skipped" in result.stdout
    assert "line 101: not JSON" in result.stderr
    topics = feed_topics(WorkerSettings(), suffix)
    assert len(consume(kafka_consumer(*topics.values()), 300, timeout=60)) == 300


@pytest.mark.kafka
def test_simulate_produces_malformed_records_to_kafka_but_not_to_the_file(
    tmp_path: Path, kafka_broker: str, kafka_consumer: ConsumerFactory
) -> None:
    out = tmp_path / "h.jsonl"
    suffix = "-" + unique_name("sim")
    args = [
        "simulate",
        "--seed",
        "5",
        "--institutions",
        "60",
        "--events",
        "300",
        "--scenarios",
        "0",
        "--bad-rate",
        "0.2",
        "--rate",
        "0",
        "--out",
        str(out),
        "--bootstrap",
        kafka_broker,
        "--topic-suffix",
        suffix,
        "--quiet",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert all(not isinstance(line, BadLine) for line in read_history(out))
    produced = int(result.stdout.split()[0])
    assert produced > 330
    topics = feed_topics(WorkerSettings(), suffix)
    messages = consume(kafka_consumer(*topics.values()), produced, timeout=60)
    feeds = {name: feed for feed, name in topics.items()}
    verdicts = [
        parse_line(
            0,
            json.dumps(
                {"topic": feeds[m.topic], "key": m.key.decode(), "value": _json_or_text(m.value)}
            ),
        )
        for m in messages
    ]
    good = [v for v in verdicts if not isinstance(v, BadLine)]
    assert len(good) == len(messages) - sum(isinstance(v, BadLine) for v in verdicts)
    assert produced - 300 >= sum(isinstance(v, BadLine) for v in verdicts) > 0


def _json_or_text(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
