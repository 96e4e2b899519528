"""Kubernetes manifests: valid against the API schemas in strict mode, and true to the real CLI,
settings, config files and the Prometheus that scrapes them (no cluster runs here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import ValidationError

from api import ApiSettings
from stream.settings import WorkerSettings
from tests.deploy.cli_args import parse_fenghuo
from tests.deploy.settings_keys import api_reads, worker_reads

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSIONS = ("1.30.0", "1.33.0")
READERS = {"worker": worker_reads, "api": api_reads}


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            found.append((path.name, doc))
    return found


DOCUMENTS = documents()


def named(kind: str, name: str) -> dict[str, Any]:
    [doc] = [d for _, d in DOCUMENTS if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def container(component: str) -> dict[str, Any]:
    deployment = named("Deployment", f"fenghuo-{component}")
    [only] = deployment["spec"]["template"]["spec"]["containers"]
    return only


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(
    ("file", "doc"),
    [pytest.param(f, d, id=f"{f}:{d['kind']}:{d['metadata']['name']}") for f, d in DOCUMENTS],
)
def test_manifest_is_valid_in_strict_mode(file: str, doc: dict[str, Any], version: str) -> None:
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        pytest.fail(f"{file} {doc['kind']}: {error.message} at {list(error.absolute_path)}")


def test_strict_validation_rejects_a_misspelt_field() -> None:
    doc = yaml.safe_load(yaml.safe_dump(named("Deployment", "fenghuo-worker")))
    doc["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}

    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[0], strict=True)


def test_kustomization_applies_every_manifest_but_the_secret_template() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {f for f, _ in DOCUMENTS}

    assert set(kustomization["resources"]) == files - {"secret.template.yaml"}


def test_configmap_holds_the_shipped_config_files() -> None:
    done = subprocess.run(
        [sys.executable, str(K8S / "generate_configmap.py"), "--check"],
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("component", ["worker", "api"])
def test_container_args_are_a_real_fenghuo_command_line(component: str) -> None:
    ctx = parse_fenghuo(container(component)["args"])

    assert ctx.info_name == component


@pytest.mark.parametrize("component", ["worker", "api"])
def test_container_environment_names_are_settings_keys(component: str) -> None:
    names = [e["name"] for e in container(component)["env"]]

    assert [n for n in names if not READERS[component](n)] == []


def test_secret_template_keys_are_settings_keys() -> None:
    keys = named("Secret", "fenghuo-secrets")["stringData"]

    assert [k for k in keys if not (worker_reads(k) or api_reads(k))] == []


@pytest.mark.parametrize("component", ["worker", "api"])
def test_pods_read_secrets_from_the_secret_and_config_from_the_configmap(component: str) -> None:
    spec = named("Deployment", f"fenghuo-{component}")["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in container(component)["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}

    assert container(component)["envFrom"] == [{"secretRef": {"name": "fenghuo-secrets"}}]
    assert volumes["config"]["configMap"]["name"] == "fenghuo-config"
    assert mounts["config"] == "/etc/fenghuo"
    assert all("password" not in e["name"].lower() for e in container(component)["env"])


@pytest.mark.parametrize("component", ["worker", "api"])
def test_containers_have_probes_requests_and_run_as_non_root(component: str) -> None:
    spec = named("Deployment", f"fenghuo-{component}")["spec"]["template"]["spec"]
    box = container(component)

    assert {"livenessProbe", "readinessProbe"} <= set(box)
    assert {"cpu", "memory"} <= set(box["resources"]["requests"])
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert box["securityContext"]["allowPrivilegeEscalation"] is False


def test_api_serves_on_the_port_its_probes_and_services_use() -> None:
    box = container("api")
    port = parse_fenghuo(box["args"]).params["port"]
    [declared] = box["ports"]

    assert declared == {"name": "http", "containerPort": port}
    assert box["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert box["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert named("Service", "fenghuo-api-pods")["spec"]["ports"][0]["port"] == port


def test_workers_scale_at_most_to_the_feed_partitions() -> None:
    topics = WorkerSettings.model_fields["kafka"].default.topics
    replicas = named("Deployment", "fenghuo-worker")["spec"]["replicas"]

    assert 1 <= replicas <= topics.loans.partitions


def test_prometheus_finds_the_pods_through_the_headless_services() -> None:
    config = yaml.safe_load((REPO / "deploy/prometheus/prometheus-k8s.yml").read_text())
    jobs = {j["job_name"]: j["dns_sd_configs"][0] for j in config["scrape_configs"]}
    worker_env = {e["name"]: e.get("value") for e in container("worker")["env"]}

    for job, service in (("fenghuo-worker", "fenghuo-worker"), ("fenghuo-api", "fenghuo-api-pods")):
        headless = named("Service", service)
        assert headless["spec"]["clusterIP"] == "None"
        assert jobs[job]["names"] == [f"{service}.fenghuo.svc.cluster.local"]
        assert jobs[job]["port"] == headless["spec"]["ports"][0]["port"]
    assert jobs["fenghuo-worker"]["port"] == int(worker_env["FENGHUO_METRICS__PORT"])


def test_disruption_budgets_cover_workers_and_api() -> None:
    selected = {
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for _, d in DOCUMENTS
        if d["kind"] == "PodDisruptionBudget"
    }

    assert selected == {"worker", "api"}


def _api_environment(secrets: dict[str, str]) -> dict[str, str]:
    env = {e["name"]: e["value"] for e in container("api")["env"]}
    return env | {k: v for k, v in secrets.items() if k.startswith("FENGHUO_API__")}


def test_the_production_api_protects_metrics_with_the_secret_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = named("Secret", "fenghuo-secrets")["stringData"]
    filled = {k: "s" * 48 for k in keys}
    for name in [n for n in os.environ if n.startswith("FENGHUO_")]:
        monkeypatch.delenv(name)
    for name, value in _api_environment(filled).items():
        monkeypatch.setenv(name, value)

    settings = ApiSettings()

    assert settings.environment == "production"
    assert settings.api.metrics.token is not None


def test_without_the_scrape_token_the_production_api_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = named("Secret", "fenghuo-secrets")["stringData"]
    filled = {k: "s" * 48 for k in keys if k != "FENGHUO_API__METRICS__TOKEN"}
    for name in [n for n in os.environ if n.startswith("FENGHUO_")]:
        monkeypatch.delenv(name)
    for name, value in _api_environment(filled).items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=r"api\.metrics\.token is not set"):
        ApiSettings()


def _worker_environment(secrets: dict[str, str]) -> dict[str, str]:
    """The worker's env as Kubernetes builds it: envFrom the Secret, then env (which wins)."""
    env = dict(secrets)
    for entry in container("worker")["env"]:
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        else:
            ref = entry["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "fenghuo-secrets"
            if ref["key"] in secrets:
                env[entry["name"]] = secrets[ref["key"]]
    return env


def _worker_secrets(*, without: str = "") -> dict[str, str]:
    """The Secret filled in, but for the Kafka passwords (only for brokers that need them)."""
    keys = named("Secret", "fenghuo-secrets")["stringData"]
    return {
        k: f"{k}-" + "s" * 40 for k in keys if not k.startswith("FENGHUO_KAFKA__") and k != without
    }


def _set_only(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in [n for n in os.environ if n.startswith("FENGHUO_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_the_production_worker_protects_metrics_with_the_api_scrape_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One token for both endpoints, so Prometheus' one credentials file fits both (issue #9)."""
    filled = _worker_secrets()
    _set_only(monkeypatch, _worker_environment(filled))

    settings = WorkerSettings()

    assert settings.environment == "production"
    assert settings.metrics.token is not None
    assert settings.metrics.token.get_secret_value() == filled["FENGHUO_API__METRICS__TOKEN"]


def test_without_the_scrape_token_the_production_worker_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    filled = _worker_secrets(without="FENGHUO_API__METRICS__TOKEN")
    _set_only(monkeypatch, _worker_environment(filled))

    with pytest.raises(ValidationError, match=r"metrics\.token is not set"):
        WorkerSettings()


@pytest.mark.parametrize("component", ["worker", "api"])
def test_no_probe_hits_the_token_protected_metrics(component: str) -> None:
    box = container(component)
    probes = {k: v for k, v in box.items() if k.endswith("Probe")}

    assert probes
    assert {
        k: p["httpGet"]["path"] for k, p in probes.items() if p["httpGet"]["path"] == "/metrics"
    } == {}


def test_worker_probes_use_the_open_healthz_on_the_metrics_port() -> None:
    box = container("worker")
    [declared] = box["ports"]
    probes = [v for k, v in box.items() if k.endswith("Probe")]

    assert {"startupProbe", "livenessProbe", "readinessProbe"} <= set(box)
    assert [p["httpGet"] for p in probes] == [{"path": "/healthz", "port": declared["name"]}] * 3
