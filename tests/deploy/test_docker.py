"""The Dockerfile and the Compose stack: valid for docker-compose, and true to the real CLI,
settings, Kafka version and the files they mount (no Docker engine runs here)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.cli_args import parse_fenghuo
from tests.deploy.settings_keys import api_reads, worker_reads

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "deploy" / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
FENGHUO_SERVICES = ("api", "worker", "simulator")
READERS = {"api": api_reads, "worker": worker_reads, "simulator": worker_reads}


def docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail(
            "docker-compose is not on PATH: apt-get install -y docker-compose (.ci/run does it)"
        )
    return found


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """The stack as docker-compose resolves it (anchors merged, simulator profile on)."""
    done = subprocess.run(
        [docker_compose(), "-f", str(COMPOSE), "--profile", "simulator", "config"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = yaml.safe_load(done.stdout)
    return doc


def test_docker_compose_accepts_the_stack(resolved: dict[str, Any]) -> None:
    assert set(resolved["services"]) == {
        "kafka",
        "postgres",
        "api",
        "worker",
        "simulator",
        "prometheus",
        "grafana",
    }


def test_kafka_is_the_pinned_version_in_kraft_mode(resolved: dict[str, Any]) -> None:
    pom = (REPO / "deploy" / "kafka" / "pom.xml").read_text(encoding="utf-8")
    [version] = re.findall(r"<kafka.version>([^<]+)</kafka.version>", pom)
    kafka = resolved["services"]["kafka"]

    assert kafka["image"] == f"apache/kafka:{version}"
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "CONTROLLER" in kafka["environment"]["KAFKA_CONTROLLER_LISTENER_NAMES"]


@pytest.mark.parametrize("service", FENGHUO_SERVICES)
def test_service_command_is_a_real_fenghuo_command_line(
    resolved: dict[str, Any], service: str
) -> None:
    parse_fenghuo(resolved["services"][service]["command"])


@pytest.mark.parametrize("service", FENGHUO_SERVICES)
def test_service_environment_names_are_settings_keys(
    resolved: dict[str, Any], service: str
) -> None:
    names = resolved["services"][service]["environment"]
    reads = READERS[service]

    assert [n for n in names if n.startswith("FENGHUO_") and not reads(n)] == []


def test_every_image_is_pinned(resolved: dict[str, Any]) -> None:
    images = [s["image"] for s in resolved["services"].values()]

    assert [i for i in images if ":" not in i or i.endswith(":latest")] == []


def test_api_port_and_health_probe_match_its_command(resolved: dict[str, Any]) -> None:
    api = resolved["services"]["api"]
    port = parse_fenghuo(api["command"]).params["port"]

    assert api["ports"][0]["target"] == port
    assert f"127.0.0.1:{port}/readyz" in " ".join(api["healthcheck"]["test"])


def test_worker_metrics_port_is_the_one_prometheus_scrapes(resolved: dict[str, Any]) -> None:
    prometheus = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {j["job_name"]: j["dns_sd_configs"][0] for j in prometheus["scrape_configs"]}
    worker = resolved["services"]["worker"]

    assert jobs["fenghuo-worker"]["names"] == ["worker"]
    assert jobs["fenghuo-worker"]["port"] == int(worker["environment"]["FENGHUO_METRICS__PORT"])
    assert jobs["fenghuo-api"]["names"] == ["api"]
    assert jobs["fenghuo-api"]["port"] == resolved["services"]["api"]["ports"][0]["target"]


def test_mounted_host_paths_exist_in_the_repository(resolved: dict[str, Any]) -> None:
    volumes = [v for s in resolved["services"].values() for v in s.get("volumes", [])]
    # docker-compose 1.29 prints the short form (source:target:mode), newer ones a mapping.
    sources = [
        Path(v["source"] if isinstance(v, dict) else v.split(":")[0])
        for v in volumes
        if (v.get("type") == "bind" if isinstance(v, dict) else v.startswith("/"))
    ]

    assert sources
    assert [str(p) for p in sources if not p.exists()] == []


def test_grafana_mounts_provisioning_where_its_provider_reads() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    provider = yaml.safe_load(
        (REPO / "deploy/grafana/provisioning/dashboards/fenghuo.yaml").read_text()
    )
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])

    assert mounts["../grafana/dashboards"] == provider["providers"][0]["options"]["path"]
    assert mounts["../grafana/provisioning"] == "/etc/grafana/provisioning"
    assert "FENGHUO_PROMETHEUS_URL" in compose["services"]["grafana"]["environment"]


def dockerfile_lines() -> list[str]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_image_is_python_311_slim_non_root_with_fenghuo_entrypoint() -> None:
    lines = dockerfile_lines()
    froms = [line.split()[1] for line in lines if line.startswith("FROM ")]
    [user] = [line.split()[1] for line in lines if line.startswith("USER ")]

    assert froms and all(f == "python:3.11-slim" for f in froms)
    assert not user.startswith(("0", "root"))
    assert 'ENTRYPOINT ["fenghuo"]' in lines


def test_image_installs_every_package_setuptools_packs() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    [include] = re.findall(r"include = \[([^\]]+)\]", pyproject)
    packages = {p.strip(' "*') for p in include.split(",")}
    copied = {line.split()[1] for line in dockerfile_lines() if line.startswith("COPY ")}

    assert packages <= copied
    assert [c for c in copied if not (REPO / c).exists() and not c.startswith("--")] == []


def test_image_environment_names_are_settings_keys() -> None:
    names = re.findall(r"\b(FENGHUO_[A-Z0-9_]+)=", DOCKERFILE.read_text(encoding="utf-8"))

    assert names
    assert [n for n in names if not (worker_reads(n) or api_reads(n))] == []


def test_api_and_prometheus_share_the_scrape_token_secret(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    prometheus = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    [api_job] = [j for j in prometheus["scrape_configs"] if j["job_name"] == "fenghuo-api"]
    mounted = "/run/secrets/metrics_token"

    assert [s["source"] for s in services["api"]["secrets"]] == ["metrics_token"]
    assert [s["source"] for s in services["prometheus"]["secrets"]] == ["metrics_token"]
    assert services["api"]["environment"]["FENGHUO_API__METRICS__TOKEN_FILE"] == mounted
    assert api_job["authorization"]["credentials_file"] == mounted
    assert Path(resolved["secrets"]["metrics_token"]["file"]).is_file()


def test_workers_and_prometheus_share_the_scrape_token_secret(resolved: dict[str, Any]) -> None:
    """The workers' /metrics needs the same token as the API's (issue #9)."""
    worker = resolved["services"]["worker"]
    prometheus = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    [job] = [j for j in prometheus["scrape_configs"] if j["job_name"] == "fenghuo-worker"]
    mounted = "/run/secrets/metrics_token"

    assert [s["source"] for s in worker["secrets"]] == ["metrics_token"]
    assert worker["environment"]["FENGHUO_METRICS__TOKEN_FILE"] == mounted
    assert job["authorization"] == {"type": "Bearer", "credentials_file": mounted}


def test_workers_follow_the_stack_environment_like_the_api(resolved: dict[str, Any]) -> None:
    services = resolved["services"]

    assert (
        services["worker"]["environment"]["FENGHUO_ENVIRONMENT"]
        == services["api"]["environment"]["FENGHUO_ENVIRONMENT"]
    )


def test_worker_healthcheck_uses_the_open_healthz_not_metrics(resolved: dict[str, Any]) -> None:
    worker = resolved["services"]["worker"]
    port = worker["environment"]["FENGHUO_METRICS__PORT"]
    probe = " ".join(worker["healthcheck"]["test"])

    assert f"127.0.0.1:{port}/healthz" in probe
    assert "/metrics" not in probe
