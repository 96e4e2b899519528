"""Kafka security in one place: the ``[kafka]`` settings turned into each client's options.

Every Kafka client of the project (the Faust app and its dead-letter producer, topic admin,
the simulator and replay producers, the benchmark's bare consumer) takes its TLS and SASL
options from here, so a broker that needs ``SASL_SSL`` is configured once for all of them.
One ``ssl.SSLContext`` serves Faust, aiokafka and kafka-python alike: CA, client certificate
and hostname check are decided here, not by each library's own ``ssl_*`` keywords.

Errors name the setting and the file, never a password.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import faust
from faust.types.auth import CredentialsT

from stream.settings import KafkaSection, resolve

__all__ = [
    "KafkaSecurityError",
    "aiokafka_options",
    "faust_credentials",
    "kafka_python_options",
    "ssl_context",
    "uses_sasl",
    "uses_tls",
]


class KafkaSecurityError(ValueError):
    """A TLS file of the ``[kafka]`` section cannot be used; the message names it."""


def uses_tls(kafka: KafkaSection) -> bool:
    return kafka.security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(kafka: KafkaSection) -> bool:
    return kafka.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")


def _path(setting: str, value: Path) -> str:
    path = resolve(value)
    if not path.is_file():
        raise KafkaSecurityError(f"kafka.{setting}: no such file {path}")
    return str(path)


def ssl_context(kafka: KafkaSection) -> ssl.SSLContext | None:
    """The client TLS context of ``kafka`` (None without TLS): verifies the brokers' chain.

    Relative paths are read from the project root, as every path of the configuration.
    """
    if not uses_tls(kafka):
        return None
    cafile = _path("ssl_cafile", kafka.ssl_cafile) if kafka.ssl_cafile else None
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    except ssl.SSLError as error:
        raise KafkaSecurityError(f"kafka.ssl_cafile {cafile} is not a PEM CA: {error}") from None
    context.check_hostname = kafka.ssl_check_hostname
    if kafka.ssl_certfile is not None:
        certfile = _path("ssl_certfile", kafka.ssl_certfile)
        keyfile = _path("ssl_keyfile", kafka.ssl_keyfile) if kafka.ssl_keyfile else None
        password = kafka.ssl_password.get_secret_value() if kafka.ssl_password else None
        try:
            context.load_cert_chain(certfile, keyfile, password)
        except ssl.SSLError as error:  # the reason only: it never quotes the password
            raise KafkaSecurityError(
                f"kafka.ssl_certfile {certfile} (key {keyfile or 'in the same file'}) "
                f"cannot be loaded: {error.reason or error}"
            ) from None
    return context


class _Password(str):
    """A password that prints masked inside containers (``repr``).

    kafka-python logs its whole configuration dict at DEBUG; the dict shows values by ``repr``,
    so the SASL password must not be a plain ``str`` there. Its value is unchanged.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'**********'"


def _sasl(kafka: KafkaSection) -> tuple[str, str]:
    assert kafka.sasl_username is not None and kafka.sasl_password is not None  # validated
    return kafka.sasl_username, _Password(kafka.sasl_password.get_secret_value())


def faust_credentials(kafka: KafkaSection) -> CredentialsT | None:
    """``broker_credentials`` for ``faust.App``: None for PLAINTEXT."""
    context = ssl_context(kafka)
    if uses_sasl(kafka):
        username, password = _sasl(kafka)
        return faust.SASLCredentials(
            username=username,
            password=password,
            ssl_context=context,
            mechanism=kafka.sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def _client_options(kafka: KafkaSection) -> dict[str, Any]:
    options: dict[str, Any] = {"security_protocol": kafka.security_protocol}
    context = ssl_context(kafka)
    if context is not None:
        options["ssl_context"] = context
    if uses_sasl(kafka):
        username, password = _sasl(kafka)
        options.update(
            sasl_mechanism=kafka.sasl_mechanism,
            sasl_plain_username=username,
            sasl_plain_password=password,
        )
    return options


def aiokafka_options(kafka: KafkaSection) -> dict[str, Any]:
    """Keyword arguments for ``AIOKafkaConsumer``/``AIOKafkaProducer``/the admin client."""
    return _client_options(kafka)


def kafka_python_options(kafka: KafkaSection) -> dict[str, Any]:
    """Keyword arguments for kafka-python's ``KafkaProducer``/``KafkaConsumer``/admin client.

    kafka-python uses a given ``ssl_context`` as is, so its own ``ssl_check_hostname`` is set
    to match the context rather than left at its default.
    """
    options = _client_options(kafka)
    if "ssl_context" in options:
        options["ssl_check_hostname"] = kafka.ssl_check_hostname
    return options
