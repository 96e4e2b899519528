"""promtool accepts the shipped Prometheus configs and rules, and the rules' unit tests pass.

Needs the ``prometheus`` Debian package (promtool); missing, the tests fail, never skip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.prometheus

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
CONFIGS = ("prometheus.yml", "prometheus-k8s.yml")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is not on PATH: apt-get install -y prometheus (.ci/run does it)")
    return subprocess.run(
        [binary, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )


def with_local_credentials(config: str, folder: Path) -> Path:
    """A copy of ``config`` (and its rules) whose credentials files exist: promtool checks them.

    The shipped paths are where Compose and Kubernetes mount the scrape token, absent here.
    """
    doc = yaml.safe_load((PROMETHEUS / config).read_text(encoding="utf-8"))
    token = folder / "metrics-token"
    token.write_text("t" * 64, encoding="utf-8")
    for job in doc["scrape_configs"]:
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token)
    shutil.copytree(PROMETHEUS / "rules", folder / "rules")
    copy = folder / config
    copy.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return copy


@pytest.mark.parametrize("config", CONFIGS)
def test_promtool_check_config_passes(config: str, tmp_path: Path) -> None:
    done = promtool("check", "config", str(with_local_credentials(config, tmp_path)))

    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("config", CONFIGS)
def test_promtool_check_config_syntax_of_the_shipped_file_passes(config: str) -> None:
    done = promtool("check", "config", "--syntax-only", config)

    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("config", "token_file"),
    [
        ("prometheus.yml", "/run/secrets/metrics_token"),
        ("prometheus-k8s.yml", "/etc/prometheus/secrets/fenghuo-metrics-token/token"),
    ],
)
def test_every_job_sends_the_scrape_token(config: str, token_file: str) -> None:
    """Both targets guard /metrics with the one token (issue #9): a job without it scrapes 401."""
    doc = yaml.safe_load((PROMETHEUS / config).read_text(encoding="utf-8"))
    auth = {j["job_name"]: j.get("authorization") for j in doc["scrape_configs"]}

    assert auth == {
        "fenghuo-api": {"type": "Bearer", "credentials_file": token_file},
        "fenghuo-worker": {"type": "Bearer", "credentials_file": token_file},
    }


def test_promtool_check_rules_passes() -> None:
    rules = sorted(str(p.relative_to(PROMETHEUS)) for p in (PROMETHEUS / "rules").glob("*.yml"))

    done = promtool("check", "rules", *rules)

    assert rules
    assert done.returncode == 0, done.stdout + done.stderr


def test_alerting_rules_fire_on_their_situations() -> None:
    done = promtool("test", "rules", "tests/alerts_test.yml")

    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        yaml.safe_dump({"groups": [{"name": "x", "rules": [{"alert": "X", "expr": "rate(x[5m]"}]}]})
    )

    done = promtool("check", "rules", str(broken))

    assert done.returncode != 0


@pytest.mark.parametrize("config", CONFIGS)
def test_configs_load_the_rule_files_and_scrape_worker_and_api(config: str) -> None:
    doc = yaml.safe_load((PROMETHEUS / config).read_text(encoding="utf-8"))
    rule_files = {str(p.relative_to(PROMETHEUS)) for p in (PROMETHEUS / "rules").glob("*.yml")}

    assert set(doc["rule_files"]) == rule_files
    assert {j["job_name"] for j in doc["scrape_configs"]} == {"fenghuo-worker", "fenghuo-api"}


def test_every_pipeline_concern_has_an_alerting_rule() -> None:
    doc = yaml.safe_load((PROMETHEUS / "rules" / "alerts.yml").read_text(encoding="utf-8"))
    names = {r["alert"] for g in doc["groups"] for r in g["rules"]}

    assert {
        "FenghuoConsumerLagGrowing",
        "FenghuoFeedSilent",
        "FenghuoDeadLetterRate",
        "FenghuoOutboxBacklog",
        "FenghuoApiErrors",
    } <= names
