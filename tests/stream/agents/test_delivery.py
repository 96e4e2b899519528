"""deliver_alerts: the worker drains the outbox its alert pipeline fills."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from alerts import RoutingConfigError
from alerts.notify import verify_signature
from stream.agents.delivery import Delivery
from tests.alerts.notify.conftest import Receiver, receiver  # noqa: F401 (fixture)
from tests.stream.agents.kit import Worker, WorkerFactory
from tests.stream.agents.test_findings import finding

SECRET = "worker-delivery-secret"


def _delivery_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "delivery.yaml"
    path.write_text(
        "receivers:\n"
        "  eic:\n"
        "    webhooks:\n"
        f"      - url: {url}/eic\n"
        "        secret_env: FENGHUO_TEST_WEBHOOK_SECRET\n"
        "grouping: false\n",
        encoding="utf-8",
    )
    return path


def test_alerts_reach_a_receivers_webhook_through_the_worker(
    make_worker: WorkerFactory,
    receiver: Receiver,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FENGHUO_TEST_WEBHOOK_SECRET", SECRET)
    worker: Worker = make_worker(delivery_file=_delivery_file(tmp_path, receiver.url), deliver=True)
    delivery = worker.ctx.delivery
    assert isinstance(delivery, Delivery)

    async def scenario() -> int:
        await worker.ctx.alerts.handle([finding()], ingested_at=None)
        dispatcher = await delivery.dispatcher()
        try:
            done = await dispatcher.run_once()
        finally:
            await dispatcher.aclose()
        return done.delivered

    try:
        assert asyncio.run(scenario()) == 1
    finally:
        worker.ctx.alerts.close()
    (request,) = receiver.requests
    assert request.path == "/eic"
    verify_signature(SECRET, request.headers["fenghuo-signature"], request.body)
    (event,) = request.json()["events"]
    assert event["data"]["category"] == "usurious_rate"


def test_a_bad_delivery_file_stops_start_up(make_worker: WorkerFactory, tmp_path: Path) -> None:
    bad = tmp_path / "delivery.yaml"
    bad.write_text("receivers:\n  no_such_agency:\n    webhooks: []\n", encoding="utf-8")
    with pytest.raises(RoutingConfigError, match="no_such_agency"):
        make_worker(delivery_file=bad, deliver=True)


def test_delivery_can_be_left_to_a_separate_process(
    make_worker: WorkerFactory, tmp_path: Path
) -> None:
    bad = tmp_path / "delivery.yaml"
    bad.write_text("receivers:\n  no_such_agency:\n    webhooks: []\n", encoding="utf-8")
    worker = make_worker(delivery_file=bad, deliver=False)
    try:
        assert worker.ctx.delivery is None
    finally:
        worker.ctx.alerts.close()
