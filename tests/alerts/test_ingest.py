"""Loading alert CloudEvents (a backtest's output) through the lifecycle into a store."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts import AlertFilter, AlertPipeline, AlertRepository, AlertsConfig
from alerts.ingest import ingest
from alerts.store.tables import alerts, outbox
from fenghuo.cli import main
from models import Severity
from tests.alerts.conftest import FindingFactory


def backtest_lines(pipeline: AlertPipeline, finding: FindingFactory) -> list[str]:
    """What a backtest writes: one CloudEvent per alert change."""
    stream = [
        finding(),
        finding(minutes=5, event_ids=("e2",), severity=Severity.HIGH),
        finding(minutes=9, event_ids=("c1",), cleared=True),
        finding(minutes=12, event_ids=("e3",)),
        finding(entity_id="L-0002", minutes=13, event_ids=("x1",)),
        finding(entity_id="L-0002", minutes=14, event_ids=("x2",)),
    ]
    return [json.dumps(c.cloudevent()) for f in stream for c in pipeline.handle(f)]


def snapshot(engine_owner: AlertPipeline) -> list[tuple[object, ...]]:
    query = select(
        alerts.c.dedup_key, alerts.c.status, alerts.c.occurrences, alerts.c.severity
    ).order_by(alerts.c.first_seen)
    with Session(engine_owner.engine) as session:
        return [tuple(r) for r in session.execute(query)]


def test_ingest_rebuilds_the_alerts_the_backtest_saw(
    pipeline: AlertPipeline, memory_config: AlertsConfig, finding: FindingFactory
) -> None:
    lines = backtest_lines(pipeline, finding)
    target = AlertPipeline.from_config(memory_config)
    report = ingest(target, lines)
    assert (report.lines, report.opened, report.updated, report.resolved) == (6, 3, 2, 1)
    assert snapshot(target) == snapshot(pipeline)


def test_ingesting_twice_changes_nothing(
    pipeline: AlertPipeline, config: AlertsConfig, finding: FindingFactory
) -> None:
    lines = backtest_lines(pipeline, finding)
    target = AlertPipeline.from_config(config)
    ingest(target, lines)
    before = snapshot(target)
    again = ingest(target, lines)
    assert (again.opened, again.updated, again.resolved) == (0, 0, 0)
    assert snapshot(target) == before
    target.close()


def test_bad_lines_are_reported_and_skipped(
    pipeline: AlertPipeline, memory_config: AlertsConfig, finding: FindingFactory
) -> None:
    good = backtest_lines(pipeline, finding)[0]
    broken = json.loads(good)
    broken["data"]["severity"] = "hgh"
    lines = ["{not json", json.dumps(broken), "", good]
    target = AlertPipeline.from_config(memory_config)
    report = ingest(target, lines)
    assert [(b.line_no, b.reason.split(":")[0]) for b in report.bad] == [
        (1, "not JSON"),
        (2, "breaks alert.schema.json"),
    ]
    assert "data/severity" in report.bad[1].reason
    assert report.opened == 1


def test_cli_ingests_a_file_into_a_store_without_deliveries(
    pipeline: AlertPipeline, finding: FindingFactory, tmp_path: Path
) -> None:
    path = tmp_path / "alerts.jsonl"
    path.write_text("\n".join([*backtest_lines(pipeline, finding), "oops"]) + "\n")
    url = f"sqlite:///{tmp_path}/store.db"
    runner = CliRunner()
    args = ["alerts", "ingest", str(path), "--store", url]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "7 lines: 3 opened, 2 updated, 1 resolved, 1 bad" in first.output
    assert "line 7: not JSON" in first.output
    second = runner.invoke(main, args)
    assert "0 opened, 0 updated, 0 resolved" in second.output
    target = AlertPipeline.from_config(AlertsConfig(store={"url": url}))  # type: ignore[arg-type]
    with Session(target.engine) as session:
        assert AlertRepository(session).count(AlertFilter(status=["open"])) == 2
        assert session.scalar(select(func.count()).select_from(outbox)) == 0
    target.close()


def test_cli_queues_deliveries_when_asked(
    pipeline: AlertPipeline, finding: FindingFactory, tmp_path: Path
) -> None:
    path = tmp_path / "alerts.jsonl"
    path.write_text(backtest_lines(pipeline, finding)[0] + "\n")
    url = f"sqlite:///{tmp_path}/store.db"
    result = CliRunner().invoke(main, ["alerts", "ingest", str(path), "--store", url, "--deliver"])
    assert result.exit_code == 0, result.output
    target = AlertPipeline.from_config(AlertsConfig(store={"url": url}))  # type: ignore[arg-type]
    with Session(target.engine) as session:
        assert session.scalar(select(func.count()).select_from(outbox)) == 2
    target.close()


def test_cli_reports_a_bad_routing_tree(tmp_path: Path) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text("receivers: []\nroute: {receivers: [a]}\n")
    path = tmp_path / "alerts.jsonl"
    path.write_text("")
    result = CliRunner().invoke(
        main, ["alerts", "ingest", str(path), "--store", "sqlite://", "--routing", str(routing)]
    )
    assert result.exit_code == 1
    assert "invalid routing tree: receivers" in result.output
