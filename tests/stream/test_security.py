"""Kafka security settings turned into Faust credentials and client options (no broker)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import faust
import pytest
from faust.types.auth import AuthProtocol
from pydantic import ValidationError

from stream.security import (
    KafkaSecurityError,
    aiokafka_options,
    faust_credentials,
    kafka_python_options,
    ssl_context,
)
from stream.settings import KafkaSection, WorkerSettings
from tests.fixtures.certs import CertFiles

PASSWORD = "pa55-w0rd-never-logged"


def sasl_ssl(certs: CertFiles, **changes: Any) -> KafkaSection:
    values: dict[str, Any] = {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "worker",
        "sasl_password": PASSWORD,
        "ssl_cafile": certs.cafile,
    }
    return KafkaSection(**{**values, **changes})


def test_plaintext_needs_no_credentials() -> None:
    kafka = KafkaSection()

    assert faust_credentials(kafka) is None
    assert aiokafka_options(kafka) == {"security_protocol": "PLAINTEXT"}
    assert kafka_python_options(kafka) == {"security_protocol": "PLAINTEXT"}


def test_sasl_credentials_alone_keep_meaning_sasl_plain_over_plaintext() -> None:
    kafka = KafkaSection(sasl_username="worker", sasl_password=PASSWORD)

    credentials = faust_credentials(kafka)

    assert kafka.security_protocol == "SASL_PLAINTEXT"
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol is AuthProtocol.SASL_PLAINTEXT
    assert credentials.mechanism.value == "PLAIN"
    assert credentials.ssl_context is None


def test_sasl_ssl_gives_faust_scram_credentials_with_a_verifying_context(
    test_certs: CertFiles,
) -> None:
    credentials = faust_credentials(sasl_ssl(test_certs))

    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol is AuthProtocol.SASL_SSL
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert (credentials.username, credentials.password) == ("worker", PASSWORD)
    assert credentials.ssl_context is not None
    assert credentials.ssl_context.verify_mode is ssl.CERT_REQUIRED


def test_ssl_gives_faust_ssl_credentials(test_certs: CertFiles) -> None:
    kafka = KafkaSection(security_protocol="SSL", ssl_cafile=test_certs.cafile)

    credentials = faust_credentials(kafka)

    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.protocol is AuthProtocol.SSL


@pytest.mark.parametrize("options", [aiokafka_options, kafka_python_options])
def test_client_options_carry_protocol_mechanism_and_credentials(
    test_certs: CertFiles, options: Any
) -> None:
    got = options(sasl_ssl(test_certs, sasl_mechanism="SCRAM-SHA-256"))

    assert got["security_protocol"] == "SASL_SSL"
    assert got["sasl_mechanism"] == "SCRAM-SHA-256"
    assert (got["sasl_plain_username"], got["sasl_plain_password"]) == ("worker", PASSWORD)
    assert isinstance(got["ssl_context"], ssl.SSLContext)


def test_hostname_check_can_be_turned_off_for_both_context_and_kafka_python(
    test_certs: CertFiles,
) -> None:
    kafka = KafkaSection(
        security_protocol="SSL", ssl_cafile=test_certs.cafile, ssl_check_hostname=False
    )

    context = ssl_context(kafka)

    assert context is not None and context.check_hostname is False
    assert kafka_python_options(kafka)["ssl_check_hostname"] is False


def test_a_client_certificate_is_loaded_into_the_context(test_certs: CertFiles) -> None:
    kafka = KafkaSection(
        security_protocol="SSL",
        ssl_cafile=test_certs.cafile,
        ssl_certfile=test_certs.certfile,
        ssl_keyfile=test_certs.keyfile,
    )

    assert ssl_context(kafka) is not None


def test_a_missing_ca_file_is_named(tmp_path: Path) -> None:
    kafka = KafkaSection(security_protocol="SSL", ssl_cafile=tmp_path / "nope.pem")

    with pytest.raises(KafkaSecurityError, match=r"kafka\.ssl_cafile: no such file .*nope\.pem"):
        ssl_context(kafka)


def test_a_key_that_does_not_match_names_the_files_but_not_the_password(
    test_certs: CertFiles,
) -> None:
    kafka = KafkaSection(
        security_protocol="SSL",
        ssl_certfile=test_certs.certfile,
        ssl_keyfile=test_certs.other_cafile.with_suffix(".key"),
        ssl_password="key-pa55word",
    )

    with pytest.raises(KafkaSecurityError, match=r"ssl_certfile .* cannot be loaded") as raised:
        ssl_context(kafka)
    assert "key-pa55word" not in str(raised.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"security_protocol": "SASL_SSL"}, "needs kafka.sasl_username and kafka.sasl_password"),
        ({"security_protocol": "SASL_PLAINTEXT", "sasl_username": "w"}, "needs kafka.sasl_user"),
        (
            {"security_protocol": "SSL", "sasl_username": "w", "sasl_password": "p"},
            "security_protocol=SSL does not use SASL",
        ),
        ({"ssl_cafile": "ca.pem"}, "ssl_cafile set but kafka.security_protocol=PLAINTEXT"),
        ({"security_protocol": "SSL", "ssl_keyfile": "k.pem"}, "need kafka.ssl_certfile"),
        ({"security_protocol": "TLS"}, "security_protocol"),
        ({"sasl_mechanism": "GSSAPI"}, "sasl_mechanism"),
    ],
)
def test_inconsistent_security_settings_stop_start_up(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        KafkaSection(**values)


def test_kafka_secrets_are_masked_in_the_logged_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FENGHUO_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("FENGHUO_KAFKA__SASL_USERNAME", "worker")
    monkeypatch.setenv("FENGHUO_KAFKA__SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("FENGHUO_KAFKA__SSL_CERTFILE", "client.pem")
    monkeypatch.setenv("FENGHUO_KAFKA__SSL_PASSWORD", "key-pa55word")

    masked = WorkerSettings().masked()

    assert masked["kafka"]["security_protocol"] == "SASL_SSL"
    assert masked["kafka"]["sasl_username"] == "worker"
    assert PASSWORD not in str(masked)
    assert "key-pa55word" not in str(masked)


@pytest.mark.parametrize("options", [aiokafka_options, kafka_python_options])
def test_client_options_print_the_password_masked(test_certs: CertFiles, options: Any) -> None:
    """kafka-python logs its configuration dict at DEBUG: the password must not show there."""
    got = options(sasl_ssl(test_certs))

    assert PASSWORD not in repr(got)
    assert got["sasl_plain_password"] == PASSWORD
