"""``fenghuo alerts deliver --once`` against a real store and a real local webhook receiver."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from alerts import AlertPipeline, AlertsConfig, StoreConfig, make_engine
from alerts.store.tables import outbox
from fenghuo.cli import main
from tests.alerts.conftest import ROUTING_FILE, FindingFactory, finding  # noqa: F401
from tests.alerts.notify.conftest import Receiver, receiver  # noqa: F401


def _delivery_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "delivery.yaml"
    path.write_text(
        "receivers:\n  eic:\n    webhooks:\n"
        f"      - {{url: '{url}/hook', secret: cli-test-secret}}\n"
        "grouping: false\n",
        encoding="utf-8",
    )
    return path


def test_deliver_once_sends_what_is_due_and_marks_it(
    tmp_path: Path,
    finding: FindingFactory,  # noqa: F811
    receiver: Receiver,  # noqa: F811
) -> None:
    url = f"sqlite:///{(tmp_path / 'fenghuo.db').as_posix()}"
    pipeline = AlertPipeline.from_config(
        AlertsConfig(store=StoreConfig(url=url), routing_file=ROUTING_FILE)
    )
    pipeline.handle(finding())
    pipeline.close()
    args = ["alerts", "deliver", "--store", url, "--once"]
    args += ["--delivery", str(_delivery_file(tmp_path, receiver.url))]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "1 notifications: 1 rows delivered, 0 to retry, 0 dead" in result.output
    assert len(receiver.accepted()) == 1
    engine = make_engine(StoreConfig(url=url))
    with engine.connect() as conn:
        row = conn.execute(select(outbox).where(outbox.c.receiver == "eic")).one()
    engine.dispose()
    assert row.delivered_at is not None


def test_deliver_refuses_a_delivery_file_naming_unknown_receivers(tmp_path: Path) -> None:
    path = tmp_path / "delivery.yaml"
    path.write_text("receivers:\n  ecc:\n    alertmanager: [{url: 'http://am:9093'}]\n")
    url = f"sqlite:///{(tmp_path / 'fenghuo.db').as_posix()}"
    result = CliRunner().invoke(
        main, ["alerts", "deliver", "--store", url, "--once", "--delivery", str(path)]
    )
    assert result.exit_code == 1
    assert "unknown receivers ['ecc']" in result.output
