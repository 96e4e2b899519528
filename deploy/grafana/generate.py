"""Writes the Grafana dashboards (JSON) from the panel lists below: ``python generate.py``.

Dashboards as code: each panel is one PromQL query set, so reviewing a dashboard is reviewing
this file, and ``tests/deploy`` checks that the committed JSON is what this script writes.
``--check`` exits 1 when a committed dashboard differs. Every query uses only bounded labels
(feed, outcome, category, severity, region, receiver, route, topic, table, model, input).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "dashboards"
#: The datasource uid set by provisioning/datasources/prometheus.yaml.
DATASOURCE = {"type": "prometheus", "uid": "fenghuo-prometheus"}
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Target:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    targets: tuple[Target, ...]
    kind: str = "timeseries"
    unit: str = "short"
    description: str = ""
    width: int = 12
    height: int = 8
    thresholds: tuple[tuple[float, str], ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


def quantiles(metric: str, by: str, legend: str) -> tuple[Target, ...]:
    """p50, p95 and p99 of a histogram, per ``by``."""
    return tuple(
        Target(
            f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}_bucket[{RATE}])))",
            f"p{int(q * 100)} {legend}",
        )
        for q in (0.5, 0.95, 0.99)
    )


def open_alerts(by: str, selector: str = "") -> str:
    """Open alerts per ``by``; ``max`` first because every API replica exports the same gauge."""
    return f"sum by ({by}) (max by (category, severity, region) (fenghuo_alerts_open{selector}))"


PIPELINE: tuple[Panel, ...] = (
    Panel(
        "Targets up",
        (Target('up{job=~"fenghuo-.*"}', "{{job}} {{instance}}"),),
        kind="stat",
        description="1 when Prometheus scraped the worker or API last time.",
        width=6,
        thresholds=((0, "red"), (1, "green")),
    ),
    Panel(
        "Events consumed /s by feed and outcome",
        (
            Target(
                f"sum by (feed, outcome) (rate(fenghuo_stream_events_total[{RATE}]))",
                "{{feed}} {{outcome}}",
            ),
        ),
        unit="ops",
        width=18,
    ),
    Panel(
        "Dead letters /s by feed",
        (
            Target(
                "sum by (feed) "
                f'(rate(fenghuo_stream_events_total{{outcome="dead_lettered"}}[{RATE}]))',
                "{{feed}}",
            ),
        ),
        unit="ops",
        description="Bad input written to <feed>.dlq with its reason in the headers.",
    ),
    Panel(
        "Findings /s by category",
        (
            Target(
                f"sum by (category) (rate(fenghuo_stream_findings_total[{RATE}]))",
                "{{category}}",
            ),
        ),
        unit="ops",
    ),
    Panel(
        "Processing latency by feed",
        quantiles("fenghuo_stream_event_processing_seconds", "feed", "{{feed}}"),
        unit="s",
        description="Decode and score one message (ML micro-batches count per message).",
    ),
    Panel(
        "Event-to-alert latency",
        quantiles("fenghuo_stream_event_to_alert_seconds", "job", ""),
        unit="s",
        description="From a message's ingest by the worker to its alert on the alerts topic.",
    ),
    Panel(
        "Consumer lag by topic",
        (Target("sum by (topic) (fenghuo_stream_consumer_lag)", "{{topic}}"),),
        description="Messages not yet read, summed over partitions (sampled every interval).",
    ),
    Panel(
        "Consumer lag by partition (top 10)",
        (Target("topk(10, fenghuo_stream_consumer_lag)", "{{topic}}[{{partition}}]"),),
    ),
    Panel(
        "State table keys",
        (Target("sum by (table) (fenghuo_stream_table_keys)", "{{table}}"),),
        description="Keys per Faust table (summed over workers: each holds its partitions).",
    ),
    Panel(
        "Alert changes produced /s",
        (
            Target(
                f"sum by (kind) (rate(fenghuo_stream_alerts_produced_total[{RATE}]))",
                "{{kind}}",
            ),
        ),
        unit="ops",
    ),
    Panel(
        "Outbox backlog by receiver",
        (Target("max by (receiver) (fenghuo_alerts_outbox_pending)", "{{receiver}}"),),
        description="Notifications written with their alert change and not yet delivered.",
    ),
    Panel(
        "Oldest undelivered notification age",
        (
            Target(
                "time() - min by (receiver) "
                "(fenghuo_alerts_outbox_oldest_pending_timestamp_seconds)",
                "{{receiver}}",
            ),
        ),
        unit="s",
    ),
    Panel(
        "Deliveries /s by receiver",
        (
            Target(
                f"sum by (receiver) (rate(fenghuo_alerts_outbox_delivered_total[{RATE}]))",
                "{{receiver}}",
            ),
        ),
        unit="ops",
        description="Outbox rows marked delivered (read from the alert store).",
    ),
    Panel(
        "Failing and dead deliveries by receiver",
        (
            Target("max by (receiver) (fenghuo_alerts_outbox_failing)", "failing {{receiver}}"),
            Target("max by (receiver) (fenghuo_alerts_outbox_dead)", "dead {{receiver}}"),
        ),
        description="Failing: last attempt failed, retried with backoff. Dead: given up on.",
    ),
    Panel(
        "API requests /s by route and status",
        (
            Target(
                f"sum by (route, status) (rate(fenghuo_api_requests_total[{RATE}]))",
                "{{route}} {{status}}",
            ),
        ),
        unit="reqps",
    ),
    Panel(
        "API error ratio",
        tuple(
            Target(
                f'(sum(rate(fenghuo_api_requests_total{{status=~"{codes}"}}[{RATE}])) '
                f"or vector(0)) / sum(rate(fenghuo_api_requests_total[{RATE}]))",
                name,
            )
            for codes, name in (("5..", "5xx"), ("4..", "4xx"))
        ),
        unit="percentunit",
    ),
    Panel(
        "API latency by route",
        quantiles("fenghuo_api_request_duration_seconds", "route", "{{route}}"),
        unit="s",
        description="A live stream (SSE) counts its whole connection.",
    ),
    Panel(
        "Model version",
        (Target("max by (model, version) (fenghuo_ml_model_info)", "{{model}} {{version}}"),),
        kind="table",
        width=8,
    ),
    Panel(
        "Drift PSI by model and input",
        (Target("max by (model, input) (fenghuo_ml_drift_psi)", "{{model}} {{input}}"),),
        description="0.1-0.25 worth watching; from 0.25 a model_drift alert opens.",
        width=16,
        thresholds=((0, "green"), (0.1, "yellow"), (0.25, "red")),
    ),
    Panel(
        "Alert changes waiting for the alerts topic",
        (Target("max by (instance) (fenghuo_alerts_topic_outbox_pending)", "{{instance}}"),),
        description="Committed alert changes the broker has not acknowledged yet (the topic"
        " relay's outbox); above 0 for 10 minutes, FenghuoAlertsTopicBacklog fires.",
    ),
    Panel(
        "Recovery repairs (last hour)",
        (
            Target(
                "sum by (table) (increase(fenghuo_stream_state_repairs_total[1h]))", "{{table}}"
            ),
            Target("sum(increase(fenghuo_stream_commit_holes_total[1h]))", "commit holes"),
        ),
        description="State owners rebuilt from their facts after a recovery (a changelog flush"
        " cut short by a crash), and partitions read again because their commits were stuck.",
    ),
)

RISK: tuple[Panel, ...] = (
    Panel(
        "Open alerts by severity",
        (Target(open_alerts("severity"), "{{severity}}"),),
        kind="stat",
        width=24,
        height=5,
    ),
    Panel(
        "Alerts opened per hour by category",
        (
            Target(
                "sum by (category) (increase(fenghuo_alerts_opened_total[1h])) > 0",
                "{{category}}",
            ),
        ),
        description="A rolling one-hour count; categories with none are hidden.",
    ),
    Panel(
        "Alerts opened per hour by severity",
        (Target("sum by (severity) (increase(fenghuo_alerts_opened_total[1h]))", "{{severity}}"),),
    ),
    Panel(
        "Alerts opened per hour by prefecture",
        (
            Target(
                "sum by (region) (increase(fenghuo_alerts_opened_by_region_total[1h]))",
                "{{region}}",
            ),
        ),
        description="region is the prefecture code (350100 Fuzhou ... 350900 Ningde, 350128 "
        "Pingtan); none: no institution (model, region-level alerts).",
    ),
    Panel(
        "Alerts resolved per hour by category",
        (
            Target(
                "sum by (category) (increase(fenghuo_alerts_resolved_total[1h]))",
                "{{category}}",
            ),
        ),
    ),
    Panel(
        "Open alerts by prefecture",
        (Target(open_alerts("region"), "{{region}}"),),
        kind="bargauge",
    ),
    Panel(
        "Open alerts by category",
        (Target(open_alerts("category"), "{{category}}"),),
        kind="bargauge",
    ),
    Panel(
        "Hot spots: top 10 category x prefecture (open)",
        (Target(f"topk(10, {open_alerts('category, region')})", "{{category}} {{region}}"),),
        kind="table",
        description="Labels are bounded, so institutions cannot be ranked here: open the API's "
        "/v1/institutions/{id}/risk or the alert list for the institutions behind a hot spot.",
    ),
    Panel(
        "Open cases by agency",
        (
            Target(
                "sum by (receiver) (max by (receiver, severity) (fenghuo_alerts_open_by_receiver))",
                "{{receiver}}",
            ),
        ),
        kind="bargauge",
        description="Open alerts routed to each division or agency (an alert can reach several).",
    ),
    Panel(
        "Open high and critical cases by agency",
        (
            Target(
                "sum by (receiver) (max by (receiver, severity) "
                '(fenghuo_alerts_open_by_receiver{severity=~"high|critical"}))',
                "{{receiver}}",
            ),
        ),
        kind="bargauge",
    ),
    Panel(
        "Alerts routed per hour by agency",
        (
            Target(
                "sum by (receiver) (increase(fenghuo_alerts_routed_total[1h]))",
                "{{receiver}}",
            ),
        ),
    ),
)


def _panel(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    steps = [
        {"color": c, "value": None if i == 0 else v} for i, (v, c) in enumerate(panel.thresholds)
    ]
    return {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {
            "defaults": {
                "unit": panel.unit,
                "thresholds": {
                    "mode": "absolute",
                    "steps": steps or [{"color": "green", "value": None}],
                },
            },
            "overrides": [],
        },
        "options": panel.options,
        "targets": [
            {
                "datasource": DATASOURCE,
                "refId": chr(ord("A") + i),
                "expr": t.expr,
                "legendFormat": t.legend,
                **({"instant": True, "format": "table"} if panel.kind == "table" else {}),
            }
            for i, t in enumerate(panel.targets)
        ],
    }


def dashboard(uid: str, title: str, panels: tuple[Panel, ...], tags: list[str]) -> dict[str, Any]:
    """A Grafana dashboard (schema 39) laying the panels out left to right, top to bottom."""
    laid: list[dict[str, Any]] = []
    x = y = row_height = 0
    for pid, panel in enumerate(panels, start=1):
        if x + panel.width > 24:
            x, y, row_height = 0, y + row_height, 0
        laid.append(_panel(panel, pid, x, y))
        x += panel.width
        row_height = max(row_height, panel.height)
    return {
        "uid": uid,
        "title": title,
        "tags": ["fenghuo", *tags],
        "timezone": "Asia/Shanghai",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "links": [],
        "panels": laid,
    }


DASHBOARDS: dict[str, dict[str, Any]] = {
    "fenghuo-pipeline.json": dashboard(
        "fenghuo-pipeline", "Fenghuo · pipeline health", PIPELINE, ["pipeline"]
    ),
    "fenghuo-risk.json": dashboard("fenghuo-risk", "Fenghuo · risk picture", RISK, ["risk"]),
}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, don't write")
    args = parser.parse_args(argv)
    stale = []
    for name, doc in DASHBOARDS.items():
        path = OUT / name
        text = render(doc)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        sys.stderr.write(f"stale dashboards (run generate.py): {', '.join(stale)}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
