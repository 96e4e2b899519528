"""TLS listeners for the local broker: SSL and SASL_SSL beside the plaintext one.

Tests of the clients' TLS and SASL options, and operators trying them before production, need a
broker that speaks both. The certificate and its key are PEM files (what ``openssl`` writes);
they go inline into ``server.properties`` (``ssl.keystore.type=PEM``), so no Java keystore and
no ``keytool`` are needed. SASL users get SCRAM-SHA-256 and SCRAM-SHA-512 credentials written
into the metadata log when the storage is formatted (``kafka-storage format --add-scram``) and a
PLAIN entry in the listener's JAAS line, so any of the three mechanisms authenticates them.
Users are added only by the first format of a data directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SCRAM_MECHANISMS", "BrokerTls", "scram_arguments", "tls_properties"]

SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
#: Names and passwords go into a JAAS line and ``--add-scram`` arguments: no quoting there.
_SAFE = re.compile(r"[A-Za-z0-9._@+\-!#$%&*^~]+")


@dataclass(frozen=True)
class BrokerTls:
    """The extra listeners: SSL on ``ssl_port``, SASL_SSL on ``sasl_ssl_port``.

    Parameters
    ----------
    certfile : Path
        The broker's certificate (PEM), its chain may follow; clients check it against their CA
        and, by default, its subject alternative names against the host they dialled.
    keyfile : Path
        Its private key, PEM PKCS#8 without a password (``openssl genpkey`` writes that).
    users : tuple of (name, password)
        SASL users; their passwords never appear in ``repr``.
    """

    certfile: Path
    keyfile: Path
    ssl_port: int = 19094
    sasl_ssl_port: int = 19095
    users: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        for name, password in self.users:
            for what, value in (("user name", name), ("password", password)):
                if not _SAFE.fullmatch(value):
                    shown = repr(value) if what == "user name" else "given"
                    raise ValueError(
                        f"broker SASL {what} {shown} must be letters, digits or "
                        f"._@+-!#$%&*^~ (no quotes, commas, '=', brackets or spaces)"
                    )


def _inline(pem: str) -> str:
    """A PEM block as one ``server.properties`` value, continued over several lines."""
    return " \\\n    ".join(line for line in pem.strip().splitlines() if line.strip())


def tls_properties(tls: BrokerTls, *, host: str, port: int, controller_port: int) -> str:
    """Lines appended to the rendered template; they replace its listener lines (last wins)."""
    jaas_users = " ".join(f'user_{name}="{password}"' for name, password in tls.users)
    scram_module = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    lines = [
        "",
        "# TLS listeners (stream/_broker_tls.py): SSL and SASL_SSL beside PLAINTEXT.",
        f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port},"
        f"SSL://{host}:{tls.ssl_port},SASL_SSL://{host}:{tls.sasl_ssl_port}",
        f"advertised.listeners=PLAINTEXT://{host}:{port},SSL://{host}:{tls.ssl_port},"
        f"SASL_SSL://{host}:{tls.sasl_ssl_port}",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,"
        "SASL_SSL:SASL_SSL",
        "ssl.keystore.type=PEM",
        f"ssl.keystore.certificate.chain={_inline(tls.certfile.read_text())}",
        f"ssl.keystore.key={_inline(tls.keyfile.read_text())}",
        "ssl.client.auth=none",
        f"listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,{','.join(SCRAM_MECHANISMS)}",
        "listener.name.sasl_ssl.plain.sasl.jaas.config="
        f"org.apache.kafka.common.security.plain.PlainLoginModule required {jaas_users};",
        *(
            f"listener.name.sasl_ssl.{mechanism.lower()}.sasl.jaas.config={scram_module}"
            for mechanism in SCRAM_MECHANISMS
        ),
    ]
    return "\n".join(lines) + "\n"


def scram_arguments(tls: BrokerTls) -> list[str]:
    """``--add-scram`` arguments of ``kafka-storage format`` for every user and mechanism."""
    return [
        argument
        for name, password in tls.users
        for mechanism in SCRAM_MECHANISMS
        for argument in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
    ]
