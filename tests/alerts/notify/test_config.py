"""The delivery file: validation, secrets from the environment, durations."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from alerts import RoutingConfigError
from alerts.notify import DeliveryConfig

REPO = Path(__file__).resolve().parents[3]


def test_shipped_delivery_file_loads() -> None:
    config = DeliveryConfig.from_file(REPO / "deploy" / "config" / "delivery.yaml")
    assert config.retry.initial == timedelta(seconds=30)
    assert config.lease == timedelta(minutes=5)


def test_webhook_secret_is_read_from_the_named_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EIC_HOOK_SECRET", "from-env")
    path = tmp_path / "delivery.yaml"
    path.write_text(
        "receivers:\n  eic:\n    webhooks:\n"
        "      - {url: 'https://eic.example/hook', secret_env: EIC_HOOK_SECRET}\n"
    )
    (hook,) = DeliveryConfig.from_file(path).receivers["eic"].webhooks
    assert hook.secret is not None and hook.secret.get_secret_value() == "from-env"
    assert "from-env" not in repr(hook)


def test_missing_secret_variable_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "delivery.yaml"
    path.write_text(
        "receivers:\n  eic:\n    webhooks:\n"
        "      - {url: 'https://eic.example/hook', secret_env: FENGHUO_NO_SUCH_VARIABLE}\n"
    )
    with pytest.raises(RoutingConfigError, match="FENGHUO_NO_SUCH_VARIABLE is not set"):
        DeliveryConfig.from_file(path)


def test_webhook_without_secret_is_refused() -> None:
    doc = {"receivers": {"eic": {"webhooks": [{"url": "https://eic.example/hook"}]}}}
    with pytest.raises(ValueError, match="needs secret_env"):
        DeliveryConfig.model_validate(doc)


def test_email_without_smtp_is_refused() -> None:
    doc = {"receivers": {"eic": {"email": {"to": ["a@eic.example"]}}}}
    with pytest.raises(ValueError, match="smtp section is required"):
        DeliveryConfig.model_validate(doc)


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("1h30m", 5400)])
def test_durations_are_written_like_the_routing_tree(text: str, seconds: int) -> None:
    config = DeliveryConfig.model_validate({"lease": text})
    assert config.lease == timedelta(seconds=seconds)


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="retyr"):
        DeliveryConfig.model_validate({"retyr": {}})


def test_unknown_receiver_is_refused() -> None:
    config = DeliveryConfig.model_validate(
        {"receivers": {"ecc": {"alertmanager": [{"url": "http://am:9093"}]}}}
    )
    with pytest.raises(RoutingConfigError, match=r"unknown receivers \['ecc'\]"):
        config.check_receivers(["eic", "coordination"])


@pytest.mark.parametrize("url", ["https://fh.example/v1/alerts/{id}", "https://fh.example/{}"])
def test_alert_url_with_another_placeholder_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="may only contain"):
        DeliveryConfig.model_validate({"alert_url": url})
