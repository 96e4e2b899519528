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


SCRAPE_TOKEN = "w" * 40


def test_development_leaves_the_worker_metrics_open() -> None:
    settings = WorkerSettings(environment="development")

    assert settings.metrics.token is None


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_outside_development_open_worker_metrics_stop_start_up(environment: str) -> None:
    with pytest.raises(ValueError, match=r"metrics\.token is not set: .*FENGHUO_METRICS__TOKEN"):
        WorkerSettings(environment=environment)


def test_production_without_a_metrics_port_needs_no_token() -> None:
    settings = WorkerSettings(environment="production", metrics={"port": 0})

    assert settings.metrics.token is None


def test_the_worker_scrape_token_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FENGHUO_ENVIRONMENT", "production")
    monkeypatch.setenv("FENGHUO_METRICS__TOKEN", SCRAPE_TOKEN)

    settings = WorkerSettings()

    assert settings.environment == "production"
    assert settings.metrics.token is not None
    assert settings.metrics.token.get_secret_value() == SCRAPE_TOKEN


def test_the_worker_scrape_token_is_read_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "metrics-token"
    secret.write_text(SCRAPE_TOKEN + "\n", encoding="utf-8")

    settings = WorkerSettings(environment="production", metrics={"token_file": secret})

    assert settings.metrics.token is not None
    assert settings.metrics.token.get_secret_value() == SCRAPE_TOKEN


def test_a_short_worker_scrape_token_is_refused() -> None:
    with pytest.raises(ValueError, match=r"metrics\.token must have at least 32 bytes"):
        WorkerSettings(metrics={"token": "short"})


def test_the_shipped_development_scrape_token_is_refused_by_a_production_worker() -> None:
    shipped = Path(__file__).resolve().parents[2] / "deploy" / "docker" / "dev-metrics-token"

    with pytest.raises(ValueError, match="shipped development token"):
        WorkerSettings(environment="production", metrics={"token_file": shipped})


def test_the_worker_scrape_token_is_masked_in_the_logged_configuration() -> None:
    settings = WorkerSettings(metrics={"token": SCRAPE_TOKEN})

    assert SCRAPE_TOKEN not in str(settings.masked())
