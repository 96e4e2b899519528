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


@pytest.mark.parametrize("config", CONFIGS)
def test_promtool_check_config_passes(config: str) -> None:
    done = promtool("check", "config", config)

    assert done.returncode == 0, done.stdout + done.stderr


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
