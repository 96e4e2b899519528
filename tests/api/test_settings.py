"""Settings: placeholder secrets fail outside development; the file and environment apply."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from api import ApiSettings
from api.settings import PLACEHOLDER_KEY, PLACEHOLDER_METRICS_TOKEN

STRONG = "k" * 40


def test_placeholder_key_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FENGHUO_API__AUTH__JWT_KEY", raising=False)
    with pytest.raises(ValidationError, match="placeholder"):
        ApiSettings(environment="production")


def test_placeholder_key_is_allowed_in_development() -> None:
    settings = ApiSettings(environment="development")
    assert settings.api.auth.jwt_key.get_secret_value() == PLACEHOLDER_KEY


def test_short_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGHUO_API__AUTH__JWT_KEY", "short")
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        ApiSettings()


def test_environment_sets_nested_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGHUO_ENVIRONMENT", "production")
    monkeypatch.setenv("FENGHUO_API__AUTH__JWT_KEY", STRONG)
    monkeypatch.setenv("FENGHUO_API__METRICS__TOKEN", STRONG)
    monkeypatch.setenv("FENGHUO_API__LIMITS__MAX_PAGE_SIZE", "420")
    settings = ApiSettings()
    assert settings.api.limits.max_page_size == 420


def test_config_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "fenghuo.toml"
    config.write_text('[api]\nport = 9001\n[alerts.store]\nurl = "sqlite://"\n[kafka]\nx = 1\n')
    monkeypatch.setenv("FENGHUO_CONFIG", str(config))
    settings = ApiSettings()
    assert (settings.api.port, settings.alerts.store.url) == (9001, "sqlite://")


def test_secrets_are_masked_in_the_start_up_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGHUO_API__AUTH__JWT_KEY", STRONG)
    assert STRONG not in str(ApiSettings().masked())


def test_tls_needs_both_files() -> None:
    with pytest.raises(ValidationError, match="go together"):
        ApiSettings(api={"tls_certfile": "cert.pem"})


def test_production_refuses_open_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGHUO_API__AUTH__JWT_KEY", STRONG)
    monkeypatch.delenv("FENGHUO_API__METRICS__TOKEN", raising=False)
    with pytest.raises(ValidationError, match=r"api\.metrics\.token is not set"):
        ApiSettings(environment="production")


def test_development_may_leave_metrics_open() -> None:
    assert ApiSettings(environment="development").api.metrics.token is None


def test_short_metrics_token_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"metrics\.token must have at least 32 bytes"):
        ApiSettings(api={"metrics": {"token": "short"}})


def test_metrics_token_is_masked_in_the_start_up_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGHUO_API__METRICS__TOKEN", "m" * 40)
    settings = ApiSettings()
    assert settings.api.metrics.token is not None
    assert "m" * 40 not in str(settings.masked())


def test_rules_path_is_shared_with_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGHUO_RULES__PATH", "/etc/fenghuo/rules.yaml")
    assert str(ApiSettings().rules.path) == "/etc/fenghuo/rules.yaml"


def test_metrics_token_is_read_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "metrics-token"
    secret.write_text("t" * 40 + "\n", encoding="utf-8")

    settings = ApiSettings(api={"metrics": {"token_file": secret}})

    assert settings.api.metrics.token is not None
    assert settings.api.metrics.token.get_secret_value() == "t" * 40


def test_a_missing_token_file_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"token_file .*absent: No such file"):
        ApiSettings(api={"metrics": {"token_file": tmp_path / "absent"}})


def test_token_and_token_file_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "metrics-token"
    secret.write_text("t" * 40, encoding="utf-8")
    with pytest.raises(ValidationError, match="token or token_file, not both"):
        ApiSettings(api={"metrics": {"token": "u" * 40, "token_file": secret}})


def test_the_shipped_development_scrape_token_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FENGHUO_API__AUTH__JWT_KEY", STRONG)
    shipped = Path(__file__).resolve().parents[2] / "deploy" / "docker" / "dev-metrics-token"
    assert shipped.read_text(encoding="utf-8").strip() == PLACEHOLDER_METRICS_TOKEN
    with pytest.raises(ValidationError, match="shipped development token"):
        ApiSettings(environment="production", api={"metrics": {"token_file": shipped}})
