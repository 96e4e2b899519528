"""``/readyz`` towards a TLS broker: ready only when its certificate is one the CA signed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api import ApiSettings, create_app
from api.settings import KafkaTlsSection
from tests.fixtures.kafka_tls import TlsBroker


def readyz(settings: ApiSettings, broker: str, kafka: KafkaTlsSection) -> tuple[int, str]:
    api = settings.api.model_copy(update={"broker": broker})
    app = create_app(
        settings.model_copy(update={"api": api, "kafka": kafka}), registry=CollectorRegistry()
    )
    with TestClient(app) as client:
        response = client.get("/readyz")
    return response.status_code, response.json()["checks"]["broker"]


def test_a_tls_broker_signed_by_the_configured_ca_is_ready(
    settings: ApiSettings, kafka_tls_broker: TlsBroker
) -> None:
    kafka = KafkaTlsSection(security_protocol="SSL", ssl_cafile=kafka_tls_broker.certs.cafile)

    assert readyz(settings, kafka_tls_broker.ssl, kafka) == (200, "ok")


@pytest.mark.parametrize("cafile", ["other", "missing"])
def test_a_tls_broker_the_ca_cannot_vouch_for_is_unreachable(
    settings: ApiSettings, kafka_tls_broker: TlsBroker, tmp_path: Path, cafile: str
) -> None:
    path = kafka_tls_broker.certs.other_cafile if cafile == "other" else tmp_path / "none.pem"
    kafka = KafkaTlsSection(security_protocol="SASL_SSL", ssl_cafile=path)

    assert readyz(settings, kafka_tls_broker.sasl_ssl, kafka) == (503, "unreachable")


def test_the_api_reads_the_broker_tls_options_from_the_kafka_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "fenghuo.toml"
    config.write_text(
        '[kafka]\nbootstrap = "b:9093"\nsecurity_protocol = "SASL_SSL"\n'
        'sasl_username = "w"\nssl_cafile = "ca.pem"\nssl_check_hostname = false\n'
    )
    monkeypatch.setenv("FENGHUO_CONFIG", str(config))
    monkeypatch.setenv("FENGHUO_KAFKA__SSL_PASSWORD", "key-pa55word")

    settings = ApiSettings()

    assert settings.kafka.uses_tls
    assert (settings.kafka.ssl_cafile, settings.kafka.ssl_check_hostname) == (Path("ca.pem"), False)
    assert "key-pa55word" not in str(settings.masked())
