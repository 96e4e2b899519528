"""The scrape-token rules both ``/metrics`` endpoints share (the API's and the worker's)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import SecretStr, ValidationError

from models.scrape_token import MIN_TOKEN_BYTES, PLACEHOLDER_METRICS_TOKEN, ScrapeTokenSection

REPO = Path(__file__).resolve().parents[2]
STRONG = "s" * MIN_TOKEN_BYTES


class NestedSection(ScrapeTokenSection):
    section: ClassVar[str] = "api.metrics"


def test_without_a_token_the_endpoint_is_open() -> None:
    assert ScrapeTokenSection().token is None


def test_a_token_of_exactly_the_minimum_length_is_accepted() -> None:
    section = ScrapeTokenSection(token=SecretStr(STRONG))

    assert section.token is not None
    assert section.token.get_secret_value() == STRONG


def test_a_token_one_byte_short_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"metrics\.token must have at least 32 bytes"):
        ScrapeTokenSection(token=SecretStr(STRONG[:-1]))


def test_length_counts_bytes_not_characters() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        ScrapeTokenSection(token=SecretStr("烽" * 10))  # 10 characters, 30 bytes


def test_the_token_file_is_read_and_stripped(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text(f"  {STRONG}\n", encoding="utf-8")

    section = ScrapeTokenSection(token_file=secret)

    assert section.token is not None
    assert section.token.get_secret_value() == STRONG


def test_a_short_token_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("short\n", encoding="utf-8")

    with pytest.raises(ValidationError, match="at least 32 bytes"):
        ScrapeTokenSection(token_file=secret)


def test_a_missing_token_file_names_the_section_and_the_path(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"api\.metrics\.token_file .*absent: No such file"):
        NestedSection(token_file=tmp_path / "absent")


def test_token_and_token_file_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text(STRONG, encoding="utf-8")

    with pytest.raises(ValidationError, match="metrics: set token or token_file, not both"):
        ScrapeTokenSection(token=SecretStr(STRONG), token_file=secret)


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="tokn"):
        ScrapeTokenSection.model_validate({"tokn": STRONG})


def test_development_may_leave_the_endpoint_open() -> None:
    ScrapeTokenSection().require_token("development")


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_outside_development_a_missing_token_is_refused(environment: str) -> None:
    with pytest.raises(ValueError, match=rf"metrics\.token is not set: .* in {environment}"):
        ScrapeTokenSection().require_token(environment)


@pytest.mark.parametrize(
    ("section", "variable"),
    [
        (ScrapeTokenSection, "FENGHUO_METRICS__TOKEN"),
        (NestedSection, "FENGHUO_API__METRICS__TOKEN"),
    ],
)
def test_the_refusal_names_the_environment_variable_of_the_section(
    section: type[ScrapeTokenSection], variable: str
) -> None:
    with pytest.raises(ValueError, match=rf"set {variable} or __TOKEN_FILE"):
        section().require_token("production")


def test_the_shipped_development_token_is_refused_outside_development() -> None:
    section = ScrapeTokenSection(token_file=REPO / "deploy" / "docker" / "dev-metrics-token")

    assert section.token is not None
    assert section.token.get_secret_value() == PLACEHOLDER_METRICS_TOKEN
    with pytest.raises(ValueError, match="shipped development token"):
        section.require_token("production")


def test_the_shipped_development_token_is_accepted_in_development() -> None:
    ScrapeTokenSection(token=SecretStr(PLACEHOLDER_METRICS_TOKEN)).require_token("development")


def test_an_own_token_is_accepted_in_production() -> None:
    ScrapeTokenSection(token=SecretStr(STRONG)).require_token("production")
