"""The TLS listener block of the broker launcher (started for real in test_security_broker)."""

from __future__ import annotations

import pytest

from stream._broker_tls import BrokerTls, scram_arguments, tls_properties
from tests.fixtures.certs import CertFiles


def tls(certs: CertFiles, **changes: object) -> BrokerTls:
    values: dict[str, object] = {
        "certfile": certs.certfile,
        "keyfile": certs.keyfile,
        "ssl_port": 9094,
        "sasl_ssl_port": 9095,
        "users": (("worker", "s3cret-pw"),),
    }
    return BrokerTls(**{**values, **changes})  # type: ignore[arg-type]


def test_listeners_add_ssl_and_sasl_ssl_beside_plaintext(test_certs: CertFiles) -> None:
    text = tls_properties(tls(test_certs), host="127.0.0.1", port=9092, controller_port=9093)

    assert (
        "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093,"
        "SSL://127.0.0.1:9094,SASL_SSL://127.0.0.1:9095"
    ) in text
    assert "ssl.keystore.type=PEM" in text
    assert "-----BEGIN PRIVATE KEY----- \\\n" in text


def test_each_user_gets_both_scram_mechanisms(test_certs: CertFiles) -> None:
    assert scram_arguments(tls(test_certs)) == [
        "--add-scram", "SCRAM-SHA-256=[name=worker,password=s3cret-pw]",
        "--add-scram", "SCRAM-SHA-512=[name=worker,password=s3cret-pw]",
    ]  # fmt: skip


def test_passwords_are_not_in_the_repr(test_certs: CertFiles) -> None:
    assert "s3cret-pw" not in repr(tls(test_certs))


@pytest.mark.parametrize(
    ("user", "message"),
    [(("bad name", "pw"), "user name 'bad name'"), (("ok", 'p"w'), "password given")],
)
def test_names_and_passwords_that_would_break_the_jaas_line_are_refused(
    test_certs: CertFiles, user: tuple[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        tls(test_certs, users=(user,))
