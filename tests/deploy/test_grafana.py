"""Grafana dashboards as code: the committed JSON is what generate.py writes, every panel
queries the provisioned datasource, and no query groups by an entity id."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
ENTITY_LABELS = re.compile(r"institution|borrower|alert_id|dedup|loan_id|product_id|event_id")


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def targets() -> list[Any]:
    return [
        pytest.param(t, id=f"{p.stem}:{panel['title']}:{t['refId']}")
        for p in DASHBOARDS
        for panel in load(p)["panels"]
        for t in panel["targets"]
    ]


def test_committed_dashboards_are_what_generate_writes() -> None:
    done = subprocess.run(
        [sys.executable, str(GRAFANA / "generate.py"), "--check"], capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr


def test_there_are_a_pipeline_and_a_risk_dashboard() -> None:
    assert {load(p)["uid"] for p in DASHBOARDS} == {"fenghuo-pipeline", "fenghuo-risk"}


@pytest.mark.parametrize("target", targets())
def test_panel_queries_the_provisioned_datasource(target: dict[str, Any]) -> None:
    provisioned = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text()
    )
    [source] = provisioned["datasources"]

    assert target["datasource"] == {"type": "prometheus", "uid": source["uid"]}
    assert target["expr"].strip()


@pytest.mark.parametrize("target", targets())
def test_panel_query_uses_no_entity_id_label(target: dict[str, Any]) -> None:
    assert ENTITY_LABELS.search(target["expr"]) is None


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_panels_fit_the_grid_without_overlapping(path: Path) -> None:
    cells: set[tuple[int, int]] = set()
    for panel in load(path)["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & mine, panel["title"]
        cells |= mine
