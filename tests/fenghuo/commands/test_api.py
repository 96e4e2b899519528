"""``fenghuo api`` over HTTPS: a real uvicorn server with a throwaway certificate.

The server runs as a user starts it (a subprocess on a free port); httpx calls it trusting only
the test CA, so a server that served plain HTTP, or another certificate, fails the test.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from fenghuo.commands.api import api
from stream.broker import free_ports
from tests.fixtures.certs import CertFiles
from tests.helpers import wait_for

REPO = Path(__file__).resolve().parents[3]
START_SECONDS = 60.0


def trusting(cafile: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cafile))


@pytest.fixture(scope="module")
def https_api(test_certs: CertFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``https://127.0.0.1:<port>`` of a ``fenghuo api --ssl-certfile ... --ssl-keyfile ...``."""
    tmp_path = tmp_path_factory.mktemp("api")
    port = free_ports(1)[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGHUO_")}
    log = tmp_path / "api.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "fenghuo", "api", "--port", str(port),
                "--store", f"sqlite:///{tmp_path / 'alerts.db'}",
                "--ssl-certfile", str(test_certs.certfile),
                "--ssl-keyfile", str(test_certs.keyfile),
            ],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"https://127.0.0.1:{port}"
    context = trusting(test_certs.cafile)

    def answers() -> bool:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            return httpx.get(f"{url}/healthz", verify=context, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answers, START_SECONDS, interval=0.2, message=f"no HTTPS answer on {url}")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_api_serves_https_with_the_given_certificate(https_api: str, test_certs: CertFiles) -> None:
    response = httpx.get(f"{https_api}/healthz", verify=trusting(test_certs.cafile))

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_a_client_that_does_not_trust_the_ca_is_refused(
    https_api: str, test_certs: CertFiles
) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{https_api}/healthz", verify=trusting(test_certs.other_cafile))


def test_plain_http_gets_no_answer_from_the_https_port(https_api: str) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(https_api.replace("https://", "http://") + "/healthz", timeout=5)


def test_a_certificate_without_its_key_is_a_usage_error(test_certs: CertFiles) -> None:
    result = CliRunner().invoke(api, ["--ssl-certfile", str(test_certs.certfile)])

    assert result.exit_code == 2
    assert "--ssl-certfile and --ssl-keyfile go together" in result.output
