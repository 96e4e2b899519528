"""Worker settings: file, environment (which wins), masked secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.settings import WorkerSettings


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "fenghuo.toml"
    path.write_text(
        '[kafka]\nbootstrap = "file-host:9092"\napp_id = "from-file"\n'
        '[kafka.topics]\nloans = { name = "loans", partitions = 6 }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("FENGHUO_CONFIG", str(path))
    return path


def test_values_come_from_the_configured_file(config_file: Path) -> None:
    settings = WorkerSettings()

    assert settings.kafka.bootstrap == "file-host:9092"
    assert settings.kafka.topics.loans.partitions == 6


def test_environment_wins_over_the_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGHUO_KAFKA__BOOTSTRAP", "env-host:9092")
    monkeypatch.setenv("FENGHUO_KAFKA__TOPICS__LOANS__PARTITIONS", "8")

    settings = WorkerSettings()

    assert settings.kafka.bootstrap == "env-host:9092"
    assert settings.kafka.topics.loans.partitions == 8
    assert settings.kafka.app_id == "from-file"


def test_topic_suffix_is_added_to_every_topic_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGHUO_KAFKA__TOPIC_SUFFIX", "-t1")

    settings = WorkerSettings()

    assert settings.topic("loans") == "loans-t1"
    assert settings.topic("guarantee_network") == "guarantee-network-t1"


def test_secrets_are_masked_in_the_logged_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FENGHUO_KAFKA__SASL_PASSWORD", "s3cret-value")

    settings = WorkerSettings()

    assert settings.kafka.sasl_password is not None
    assert "s3cret-value" not in str(settings.masked())


def test_a_password_in_the_store_url_is_masked_in_the_logged_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression (docs/reliability.md): the worker logged the store URL with its password."""
    url = "postgresql+psycopg://fenghuo:pw-in-url@db:5432/fenghuo"
    monkeypatch.setenv("FENGHUO_ALERTS__STORE__URL", url)

    logged = str(WorkerSettings().masked())

    assert "pw-in-url" not in logged
    assert "postgresql+psycopg://fenghuo:***@db:5432/fenghuo" in logged


def test_a_partition_count_below_one_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGHUO_KAFKA__TOPICS__TRADES__PARTITIONS", "0")

    with pytest.raises(ValueError, match="partitions"):
        WorkerSettings()
