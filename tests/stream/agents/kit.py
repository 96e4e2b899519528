"""A worker app for single-agent tests: chosen detectors, an in-memory alert store, and
recording topics (what an agent produces is recorded, since no broker is involved).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import faust
import orjson
from prometheus_client import CollectorRegistry

from alerts import AlertsConfig, StoreConfig
from models import Detector, RiskEngine
from stream.agents import WorkerContext
from stream.app import create_app
from stream.deadletter import DeadLetterWriter
from stream.settings import PROJECT_ROOT, WorkerSettings
from stream.topics import DEAD_LETTER_SOURCES


class RecordingTopic:
    """Records what an agent would produce; ``fail`` makes every send raise."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail = fail

    async def send(self, **kwargs: Any) -> asyncio.Future[None]:
        """Record the message; like Faust's ``send``, return its (here at once) acknowledgement."""
        if self.fail is not None:
            raise self.fail
        self.sent.append(kwargs)
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked

    def values(self) -> list[Any]:
        return [orjson.loads(item["value"]) for item in self.sent]

    def headers(self) -> list[dict[str, str]]:
        return [{k: v.decode() for k, v in item["headers"]} for item in self.sent]


@dataclasses.dataclass
class Worker:
    app: faust.App
    ctx: WorkerContext
    metrics: CollectorRegistry
    findings: RecordingTopic
    alerts: RecordingTopic
    rekeyed: RecordingTopic
    network: RecordingTopic
    dead_letters: dict[str, RecordingTopic]

    def agent(self, name: str) -> Any:
        return self.app.agents[name]

    def count(self, feed: str, outcome: str) -> float:
        value = self.metrics.get_sample_value(
            "fenghuo_stream_events_total", {"feed": feed, "outcome": outcome}
        )
        return value or 0.0


WorkerFactory = Callable[..., Worker]


def build_worker(
    detectors: Sequence[Detector] = (),
    *,
    deliver: bool = False,
    delivery_file: Path | None = None,
    alerts_config: AlertsConfig | None = None,
) -> Worker:
    """A fresh app running ``detectors``, its outputs recorded; outbox delivery only if asked."""
    config = PROJECT_ROOT / "deploy" / "config"
    settings = WorkerSettings(
        deliver=deliver,
        alerts=(alerts_config or AlertsConfig(store=StoreConfig(url="sqlite://"))).model_copy(
            update={
                "routing_file": config / "routing.yaml",
                "delivery_file": delivery_file or config / "delivery.yaml",
            }
        ),
    )
    registry = CollectorRegistry()
    app = create_app(
        settings, metrics_registry=registry, engine=RiskEngine(detectors=list(detectors))
    )
    ctx: WorkerContext = app.fenghuo  # type: ignore[attr-defined]
    findings, alerts, rekeyed, network = (RecordingTopic() for _ in range(4))
    dead_letters = {source: RecordingTopic() for source in DEAD_LETTER_SOURCES}
    ctx.outlets = dataclasses.replace(
        ctx.outlets,
        findings=findings,  # type: ignore[arg-type]
        loans_by_borrower=rekeyed,  # type: ignore[arg-type]
        guarantee_network=network,  # type: ignore[arg-type]
        alerts=alerts,  # type: ignore[arg-type]
        dead_letters=dead_letters,
    )
    ctx.dead_letters = DeadLetterWriter(dead_letters, ctx.metrics)  # type: ignore[arg-type]
    ctx.alerts.topic = alerts  # type: ignore[assignment]
    return Worker(app, ctx, registry, findings, alerts, rekeyed, network, dead_letters)


#: How long a test waits for an agent to finish the messages it was given.
DRAIN_SECONDS = 10.0


def run_agent(
    worker: Worker, agent: str, feed: str, messages: Sequence[tuple[bytes, bytes]]
) -> None:
    """Put ``(key, value)`` messages into one agent and wait until it has processed them all.

    ``put`` returns once a message enters the agent, not when the agent is done with it, so
    this waits (with a deadline) for the agent's processing-time count to reach the total.
    """

    def processed() -> float:
        count = worker.metrics.get_sample_value(
            "fenghuo_stream_event_processing_seconds_count", {"feed": feed}
        )
        return count or 0.0

    async def run() -> None:
        async with worker.agent(agent).test_context() as test_agent:
            for key, value in messages:
                await test_agent.put(key=key, value=value)
            deadline = time.monotonic() + DRAIN_SECONDS
            while processed() < len(messages):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{agent} processed {processed()} of {len(messages)}")
                await asyncio.sleep(0.01)

    asyncio.run(run())
