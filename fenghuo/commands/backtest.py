"""``fenghuo backtest``: the live detectors and alert lifecycle over a history file, no Kafka.

Writes every alert CloudEvent the live pipeline would emit, and with labels reports recall,
precision and median detection delay per category. Several ``--rules`` files are run one after
the other on the same history, so a new rules file can be compared with the one in force.
"""

from __future__ import annotations

import json
import logging
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import click

from alerts import AlertPipeline, AlertsConfig, StoreConfig
from alerts.evaluate import CategoryScore, ScoredAlert, as_json, evaluate, format_table
from models import Detector, DetectorParams
from models.backtest import Backtest
from models.catalogue import build_engine
from models.history import labels_path_for, read_history, read_labels
from models.ml.config import MLConfig
from models.ml.serving import build_ml_detectors, load_configured_bundle
from models.rules_file import load_rules

log = logging.getLogger(__name__)

DEFAULT_RULES = Path("deploy/config/rules.yaml")
_TICK_EVERY = 2000


@click.command()
@click.argument("history", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labels file (default: the one beside HISTORY, if any).",
)
@click.option(
    "--rules",
    "rules_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Rules file; repeat to compare several. [default: deploy/config/rules.yaml]",
)
@click.option(
    "--alerts-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write alert CloudEvents as JSON lines (one file; with several --rules, suffixed).",
)
@click.option(
    "--report", type=click.Path(dir_okay=False, path_type=Path), help="Write the scores as JSON."
)
@click.option("--ml/--no-ml", default=True, show_default=True, help="Run the ML detectors.")
@click.option("--model-version", default="current", show_default=True)
@click.option(
    "--grace-hours",
    default=24.0,
    show_default=True,
    help="How long after a scenario's end an alert still counts.",
)
def backtest(
    history: Path,
    labels: Path | None,
    rules_files: tuple[Path, ...],
    alerts_out: Path | None,
    report: Path | None,
    ml: bool,
    model_version: str,
    grace_hours: float,
) -> None:
    """Run the detectors over HISTORY (contracts/history-format.md) and score the alerts."""
    labels = labels or _default_labels(history)
    runs = list(rules_files) or [DEFAULT_RULES]
    results: dict[str, Any] = {}
    for index, rules_path in enumerate(runs):
        params = load_rules(rules_path, missing_ok=rules_path == DEFAULT_RULES)
        out = _numbered(alerts_out, index, len(runs))
        alerts = _run(history, params, out, _ml_detectors(params, ml, model_version))
        name = f"{rules_path} (version {params.version})"
        click.echo(f"\n{name}: {len(alerts)} alerts")
        if labels is not None:
            scores = evaluate(alerts, read_labels(labels), grace=timedelta(hours=grace_hours))
            click.echo(format_table(scores))
            results[name] = _summary(scores, len(alerts))
        else:
            results[name] = {"alerts": len(alerts)}
    if report is not None:
        report.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
        click.echo(f"\nscores written to {report}")


def _run(
    history: Path, params: DetectorParams, out: Path | None, ml: list[Detector]
) -> list[ScoredAlert]:
    bt = Backtest(engine=build_engine(params, extra=ml))
    pipeline = AlertPipeline.from_config(AlertsConfig(store=StoreConfig(url="sqlite://")))
    opened: list[ScoredAlert] = []
    with ExitStack() as stack:
        sink: IO[str] | None = stack.enter_context(out.open("w", encoding="utf-8")) if out else None
        for count, line in enumerate(read_history(history), start=1):
            findings = bt.feed(line)
            changes = pipeline.handle_batch(findings) if findings else []
            if count % _TICK_EVERY == 0:
                changes += pipeline.tick()
            for change in changes:
                doc = change.cloudevent()
                if change.kind == "opened":
                    opened.append(ScoredAlert.from_data(doc["data"]))
                if sink is not None:
                    sink.write(json.dumps(doc, ensure_ascii=False) + "\n")
    pipeline.close()
    _report_stats(bt)
    return opened


def _ml_detectors(params: DetectorParams, enabled: bool, version: str) -> list[Detector]:
    if not enabled:
        return []
    config = MLConfig(version=version)
    return build_ml_detectors(load_configured_bundle(config), config=config, params=params)


def _report_stats(bt: Backtest) -> None:
    stats = bt.stats
    click.echo(
        f"events: {dict(stats.events)}; bad lines: {len(stats.bad_lines)}; "
        f"impossible events: {len(stats.invalid_events)}; detector failures: {len(stats.failures)}"
    )
    for bad in stats.bad_lines[:5]:
        click.echo(f"  line {bad.line_no}: {bad.reason}", err=True)
    for failure in stats.failures[:5]:
        click.echo(f"  {failure.reason}", err=True)


def _summary(scores: list[CategoryScore], alerts: int) -> dict[str, Any]:
    return {"alerts": alerts, "categories": as_json(scores)}


def _default_labels(history: Path) -> Path | None:
    candidate = labels_path_for(history)
    return candidate if candidate.exists() else None


def _numbered(path: Path | None, index: int, total: int) -> Path | None:
    if path is None or total == 1:
        return path
    return path.with_name(f"{path.stem}.{index + 1}{path.suffix}")
