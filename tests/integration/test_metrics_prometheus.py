"""Proof that every Grafana panel has data: a real Prometheus scrapes a real worker and API.

The worker (``fenghuo worker``) and the API (``fenghuo api``) run as subprocesses on uuid
topics and one SQLite alert store, fed by ``fenghuo simulate`` (with some malformed records),
while ``prometheus`` scrapes both every second with the shipped rule files loaded. The worker
serves a small model trained here (so model info and drift PSI exist whatever the shipped
registry holds), and one loan of an unregistered lender opens an alert at once. Then each
panel query of each dashboard in ``deploy/grafana/dashboards`` must return at least one real
(non-NaN) sample before the deadline, the rules must evaluate cleanly, and the scraped series
may carry only bounded labels.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from kafka import KafkaProducer

from models.history import to_event
from models.ml import DefaultRiskModel, LoanAnomalyModel
from models.ml.artifacts import save_bundle
from models.ml.train import fit_models, table_from_events
from stream.admin import delete_topics, list_topics
from tests.helpers import WaitTimeout, unique_name, wait_for
from tests.helpers.prometheus import (
    START_SECONDS,
    Prometheus,
    answers,
    free_port,
    prometheus_command,
    stop,
    write_config,
)
from tests.models.ml.crafted import crafted_history

pytestmark = [pytest.mark.kafka, pytest.mark.prometheus]

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "deploy" / "grafana" / "dashboards"
RULES = REPO / "deploy" / "prometheus" / "rules"
#: From the feeds starting, every panel must have data within this (the whole module < 3 min).
DATA_SECONDS = 100.0
GHOST = "METRICS-MC-GHOST"
#: What Grafana puts for ``$__rate_interval`` with a 15 s scrape interval.
RATE_INTERVAL = "1m"
#: Label names a fenghuo_* series may carry: closed sets only, never an entity id.
BOUNDED_LABELS = {
    "__name__",
    "job",
    "instance",
    "feed",
    "outcome",
    "category",
    "severity",
    "region",
    "receiver",
    "channel",  # webhook, email, alertmanager
    "stage",  # feed, borrower, network, findings
    "route",
    "method",
    "status",
    "kind",
    "topic",
    "partition",
    "table",
    "model",
    "version",
    "input",
    "le",
}


def panel_queries() -> list[Any]:
    """One pytest param per target of every panel of every dashboard."""
    params = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for panel in doc["panels"]:
            for target in panel["targets"]:
                name = f"{path.stem}:{panel['title']}:{target['refId']}"
                params.append(pytest.param(target["expr"], id=name))
    return params


@dataclass
class Stack:
    prometheus: str
    suffix: str
    logs: dict[str, Path]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: float = 0.0

    def tails(self) -> str:
        return "\n".join(
            f"--- {name} log tail:\n{path.read_text(errors='replace')[-1500:]}"
            for name, path in self.logs.items()
        )

    def query(self, expr: str) -> list[dict[str, Any]]:
        return Prometheus(self.prometheus, self.logs["prometheus"]).query(expr)


def train_small_model(model_dir: Path) -> None:
    """A small registered model (crafted history, small forests): seconds, not minutes."""
    records = crafted_history(300, seed=1)
    table = table_from_events((to_event(r) for r in records), data_sha256="0" * 64, source="t")
    trained = fit_models(
        table,
        performance_days=60.0,
        random_state=0,
        default_risk=DefaultRiskModel(max_iter=40, learning_rate=0.1, max_leaf_nodes=4),
        anomaly=LoanAnomalyModel(n_estimators=30),
    )
    save_bundle(
        model_dir,
        "metrics-v1",
        anomaly=trained.anomaly,
        default_risk=trained.default_risk,
        metadata=trained.metadata,
    )


def unlicensed_loan() -> dict[str, Any]:
    """A loan by a lender no institution record names: ``unlicensed_activity`` at once."""
    return {
        "event_id": "metrics-ghost-1",
        "event_type": "originated",
        "event_time": "2026-11-26T10:15:00+08:00",
        "institution_id": GHOST,
        "loan_id": "LOAN-metrics-ghost-1",
        "borrower_id": "B-metrics-ghost-1",
        "borrower_type": "enterprise",
        "principal": 1_000_000,
        "outstanding": 1_000_000,
        "annual_rate": 0.08,
        "term_days": 180,
        "days_past_due": 0,
    }


def send_unlicensed_loan(bootstrap: str, suffix: str) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        producer.send("loans" + suffix, key=GHOST.encode(), value=orjson.dumps(unlicensed_loan()))
        producer.flush()
    finally:
        producer.close(timeout=10)


def service_env(bootstrap: str, suffix: str, tmp: Path, worker_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGHUO_")}
    env.update(
        {
            "FENGHUO_KAFKA__BOOTSTRAP": bootstrap,
            "FENGHUO_KAFKA__TOPIC_SUFFIX": suffix,
            "FENGHUO_KAFKA__APP_ID": f"fenghuo-metrics{suffix}",
            "FENGHUO_METRICS__PORT": str(worker_port),
            "FENGHUO_METRICS__INTERVAL_SECONDS": "1",
            "FENGHUO_ML__MODEL_DIR": str(tmp / "models"),
            "FENGHUO_ML__VERSION": "metrics-v1",
            "FENGHUO_ML__DRIFT_MIN_SAMPLES": "20",
            "FENGHUO_ML__DRIFT_CHECK_SECONDS": "1",
            "FENGHUO_VAR_DIR": str(tmp),
            "FENGHUO_ALERTS__STORE__URL": f"sqlite:///{tmp / 'alerts.db'}",
            "FENGHUO_INPUT__REGISTRY_WAIT_SECONDS": "1",
        }
    )
    return env


def prometheus_config(tmp: Path, worker_port: int, api_port: int) -> Path:
    """The shipped rules, scraped every second from the two local processes."""
    rules = tmp / "rules"
    shutil.copytree(RULES, rules)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in sorted(rules.glob("*.yml"))],
        "scrape_configs": [
            {
                "job_name": "fenghuo-worker",
                "static_configs": [{"targets": [f"127.0.0.1:{worker_port}"]}],
            },
            {"job_name": "fenghuo-api", "static_configs": [{"targets": [f"127.0.0.1:{api_port}"]}]},
        ],
    }
    return write_config(tmp, config)


def start(stack: Stack, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
    with stack.logs[name].open("wb") as out:
        stack.processes[name] = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_alive(stack: Stack, name: str, ready: Any) -> None:
    process = stack.processes[name]
    try:
        wait_for(lambda: ready() or process.poll() is not None, START_SECONDS, interval=0.2)
    except WaitTimeout:
        pytest.fail(f"{name} not ready in {START_SECONDS} s\n{stack.tails()}")
    assert process.poll() is None, f"{name} exited early\n{stack.tails()}"


@pytest.fixture(scope="module")
def stack(kafka_broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("metrics")
    suffix = "-" + unique_name("metrics")
    worker_port, api_port, prom_port = free_port(), free_port(), free_port()
    names = ("api", "worker", "simulator", "prometheus")
    state = Stack(f"http://127.0.0.1:{prom_port}", suffix, {n: tmp / f"{n}.log" for n in names})
    env = service_env(kafka_broker, suffix, tmp, worker_port)
    fenghuo = [sys.executable, "-m", "fenghuo"]
    try:
        start(state, "api", [*fenghuo, "api", "--port", str(api_port)], env)
        train_small_model(tmp / "models")
        wait_alive(state, "api", lambda: answers(f"http://127.0.0.1:{api_port}/healthz"))
        start(state, "worker", [*fenghuo, "worker"], env)
        worker_log = state.logs["worker"]
        wait_alive(
            state, "worker", lambda: "worker ready" in worker_log.read_text(errors="replace")
        )
        start(
            state,
            "prometheus",
            prometheus_command(prometheus_config(tmp, worker_port, api_port), tmp, prom_port),
        )
        wait_alive(state, "prometheus", lambda: answers(f"{state.prometheus}/-/ready"))
        simulate = [
            *fenghuo,
            "simulate",
            "--bootstrap",
            kafka_broker,
            "--topic-suffix",
            suffix,
            "--seed",
            "5",
            "--events",
            "12000",
            "--institutions",
            "60",
            "--rate",
            "150",
            "--bad-rate",
            "0.02",
            "--quiet",
        ]
        state.started = time.monotonic()
        send_unlicensed_loan(kafka_broker, suffix)
        start(state, "simulator", simulate, env)
        yield state
    finally:
        for process in reversed(state.processes.values()):
            stop(process)
        delete_topics(kafka_broker, [t for t in list_topics(kafka_broker) if suffix in t])


def has_data(result: list[dict[str, Any]]) -> bool:
    """At least one series with a real number (a quantile of nothing is NaN, not data)."""
    return any(not math.isnan(float(series["value"][1])) for series in result)


@pytest.mark.parametrize("expr", panel_queries())
def test_dashboard_panel_query_returns_data(stack: Stack, expr: str) -> None:
    query = expr.replace("$__rate_interval", RATE_INTERVAL)
    remaining = DATA_SECONDS - (time.monotonic() - stack.started)
    last: list[dict[str, Any]] = []

    def flowing() -> bool:
        nonlocal last
        last = stack.query(query)
        return has_data(last)

    try:
        wait_for(flowing, max(remaining, 1.0), interval=1.0)
    except WaitTimeout:
        pytest.fail(f"no data for {query!r}: last result {last[:5]}\n{stack.tails()}")


def test_scrape_targets_are_up(stack: Stack) -> None:
    targets = httpx.get(f"{stack.prometheus}/api/v1/targets", timeout=5).json()["data"]
    health = {t["labels"]["job"]: t["health"] for t in targets["activeTargets"]}

    assert health == {"fenghuo-worker": "up", "fenghuo-api": "up"}, targets


def test_shipped_rules_evaluate_without_errors(stack: Stack) -> None:
    def evaluated() -> list[dict[str, Any]]:
        body = httpx.get(f"{stack.prometheus}/api/v1/rules", timeout=5).json()
        rules = [r for g in body["data"]["groups"] for r in g["rules"]]
        return rules if all(r.get("lastEvaluation", "").startswith("2") for r in rules) else []

    rules = wait_for(evaluated, 30.0, interval=0.5)

    assert len(rules) >= 15
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []


def test_recording_rules_produce_series(stack: Stack) -> None:
    def recorded() -> list[dict[str, Any]]:
        return stack.query('{__name__=~"feed:fenghuo_stream_events:rate5m"}')

    assert has_data(wait_for(recorded, 30.0, interval=0.5))


def test_fenghuo_series_carry_only_bounded_labels(stack: Stack) -> None:
    wait_for(lambda: stack.query("fenghuo_ml_model_info"), 30.0, interval=0.5)
    body = httpx.get(
        f"{stack.prometheus}/api/v1/labels",
        params={"match[]": '{__name__=~"fenghuo_.*"}'},
        timeout=5,
    ).json()

    assert set(body["data"]) <= BOUNDED_LABELS
