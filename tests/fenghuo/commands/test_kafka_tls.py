"""``fenghuo kafka start`` TLS options: mistakes are refused before any broker starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fenghuo.commands.kafka import kafka
from tests.fixtures.certs import CertFiles


def start(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(kafka, ["start", *args])
    return result.exit_code, result.output


def test_a_certificate_without_its_key_is_refused(test_certs: CertFiles) -> None:
    code, output = start("--tls-cert", str(test_certs.certfile))

    assert code == 2
    assert "--tls-cert and --tls-key go together" in output


def test_sasl_users_without_tls_are_refused(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("worker=s3cret\n")

    code, output = start("--sasl-users", str(users))

    assert code == 2
    assert "--sasl-users needs --tls-cert and --tls-key" in output


@pytest.mark.parametrize(
    ("line", "message"),
    [("worker", "line 2: expected NAME=PASSWORD"), ('worker=pa"ss', "password given must be")],
)
def test_a_bad_users_file_is_refused_without_echoing_the_password(
    test_certs: CertFiles, tmp_path: Path, line: str, message: str
) -> None:
    users = tmp_path / "users"
    users.write_text(f"# name=password\n{line}\n")

    code, output = start(
        "--tls-cert", str(test_certs.certfile), "--tls-key", str(test_certs.keyfile),
        "--sasl-users", str(users),
    )  # fmt: skip

    assert code == 2
    assert message in output.replace("\n", " ")
    assert 'pa"ss' not in output
