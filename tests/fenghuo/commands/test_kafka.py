"""``fenghuo kafka`` as a user runs it: a subprocess with its own PATH and var dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stream.broker import KafkaBroker, free_ports


def _fenghuo(
    *args: str, var_dir: Path, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FENGHUO_VAR_DIR": str(var_dir)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "fenghuo", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _claim_jars(var_dir: Path) -> None:
    """Make ``var_dir`` look fetched, so start gets as far as needing java."""
    libs = var_dir / "kafka" / "libs"
    libs.mkdir(parents=True)
    (libs / ".fetched-version").write_text(KafkaBroker().version + "\n")


def test_help_explains_each_subcommand(tmp_path: Path) -> None:
    result = _fenghuo("kafka", "--help", var_dir=tmp_path)
    assert result.returncode == 0
    for line in ("fetch", "start", "stop", "status", "Java 17+", "127.0.0.1"):
        assert line in result.stdout


def test_start_names_maven_when_path_lacks_it(tmp_path: Path) -> None:
    result = _fenghuo("kafka", "start", var_dir=tmp_path, path=str(tmp_path))
    assert result.returncode == 1
    assert "Error: mvn is not on PATH" in result.stderr


def test_start_names_java_when_path_lacks_it(tmp_path: Path) -> None:
    _claim_jars(tmp_path)
    result = _fenghuo("kafka", "start", var_dir=tmp_path, path=str(tmp_path))
    assert result.returncode == 1
    assert "Error: java is not on PATH: the Kafka broker needs Java 17 or newer" in result.stderr


def test_status_of_a_fresh_home_says_not_running_and_fails(tmp_path: Path) -> None:
    (port, controller_port) = free_ports(2)
    args = ("kafka", "status", "--port", str(port), "--controller-port", str(controller_port))
    result = _fenghuo(*args, var_dir=tmp_path)
    assert result.returncode == 1
    assert f"Kafka is not running (expected on 127.0.0.1:{port})" in result.stdout
    assert "jars missing: run `fenghuo kafka fetch`" in result.stdout


def test_stop_when_nothing_runs_says_so(tmp_path: Path) -> None:
    result = _fenghuo("kafka", "stop", var_dir=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "Kafka was not running"


@pytest.mark.kafka
def test_status_tells_a_foreign_broker_from_ours(kafka_broker: str, tmp_path: Path) -> None:
    port = kafka_broker.rpartition(":")[2]
    result = _fenghuo("kafka", "status", "--port", port, var_dir=tmp_path)
    assert result.returncode == 0
    assert f"A broker answers on {kafka_broker}, but it was not started from this home" in (
        result.stdout
    )
