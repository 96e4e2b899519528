"""The API's configuration: one root ``BaseSettings`` with plain ``BaseModel`` sections.

Sources, strongest first: keyword arguments, environment (``FENGHUO_<SECTION>__<KEY>``), the
TOML file (``deploy/config/fenghuo.toml`` or the path in ``FENGHUO_CONFIG``), then defaults.
The ``[alerts]`` section is the worker's, so both processes open the same store.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from alerts import AlertsConfig
from models.scrape_token import PLACEHOLDER_METRICS_TOKEN as PLACEHOLDER_METRICS_TOKEN
from models.scrape_token import ScrapeTokenSection

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = PROJECT_ROOT / "deploy" / "config" / "fenghuo.toml"
CONFIG_ENV = "FENGHUO_CONFIG"
#: The shipped signing key: fine on a laptop, refused anywhere else.
PLACEHOLDER_KEY = "change-me-in-production"
MIN_KEY_BYTES = 32


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthSection(_Section):
    """Bearer tokens (JWT, HS256) signed with ``jwt_key``; API keys live in the store."""

    jwt_key: SecretStr = SecretStr(PLACEHOLDER_KEY)
    issuer: str | None = None
    audience: str | None = None
    #: Tolerated clock difference when checking ``exp`` (seconds).
    leeway_seconds: int = Field(default=30, ge=0, le=300)


class LimitsSection(_Section):
    """What one request may ask for, and how often one caller may ask."""

    default_page_size: int = Field(default=50, ge=1)
    max_page_size: int = Field(default=500, ge=1, le=10_000)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_query_bytes: int = Field(default=4096, ge=256)
    export_max_rows: int = Field(default=50_000, ge=1)
    #: Token bucket per caller: sustained requests per second and the burst allowed on top.
    rate_per_second: float = Field(default=20.0, gt=0)
    burst: int = Field(default=60, ge=1)

    @model_validator(mode="after")
    def _default_within_max(self) -> LimitsSection:
        if self.default_page_size > self.max_page_size:
            raise ValueError(
                f"default_page_size {self.default_page_size} exceeds max_page_size "
                f"{self.max_page_size}"
            )
        return self


class StreamSection(_Section):
    """The live stream: how often it polls the store and how long one connection lives."""

    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    heartbeat_seconds: float = Field(default=15.0, gt=0)
    #: A connection ends after this long and the client resumes with ``Last-Event-ID``
    #: (keeps proxies and load balancers happy and bounds a stuck client's cost).
    max_connection_seconds: float = Field(default=300.0, gt=0)
    retry_ms: int = Field(default=3000, ge=100)


class KafkaTlsSection(BaseModel):
    """The TLS options of the worker's ``[kafka]`` section, for ``/readyz``'s broker check.

    The same keys as the worker's, read from the same section, so one configuration serves
    both processes. The API speaks no Kafka (SASL needs a Kafka client), so its check proves a
    broker listener answers with a certificate this CA trusts; the other keys are ignored.
    """

    model_config = ConfigDict(extra="ignore")

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_password: SecretStr | None = None
    ssl_check_hostname: bool = True

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")


class MetricsSection(ScrapeTokenSection):
    """Who may scrape ``/metrics``: its series count alerts per category, region and agency.

    With a token (``token``, or the first line of ``token_file``: a mounted secret that
    Prometheus reads too), a scrape needs ``Authorization: Bearer <token>`` (Prometheus:
    ``authorization.credentials_file``) or an admin credential of every agency (``*``). Without
    one ``/metrics`` is open, which only ``development`` allows (the demo on 127.0.0.1). The
    rules are the worker's too (``models.scrape_token``).
    """

    section: ClassVar[str] = "api.metrics"


class RulesSection(BaseModel):
    """The worker's rules file (``[rules]``, shared with it): what runs when no stored rule set
    is active. Only ``path`` is read here; the worker's other keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    path: Path = Path("deploy/config/rules.yaml")


class ApiSection(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: Kafka bootstrap (``host:port,…``) checked by ``/readyz``; None: no broker check.
    broker: str | None = None
    #: Serve HTTPS: both a PEM certificate (chain) and its private key.
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    auth: AuthSection = AuthSection()
    limits: LimitsSection = LimitsSection()
    stream: StreamSection = StreamSection()
    metrics: MetricsSection = MetricsSection()

    @model_validator(mode="after")
    def _tls_pair(self) -> ApiSection:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("api.tls_certfile and api.tls_keyfile go together: set both or none")
        return self


class ApiSettings(BaseSettings):
    """Everything the API needs; ``environment`` other than development refuses placeholders."""

    model_config = SettingsConfigDict(
        env_prefix="FENGHUO_", env_nested_delimiter="__", extra="ignore"
    )

    environment: Literal["development", "staging", "production"] = "development"
    api: ApiSection = ApiSection()
    alerts: AlertsConfig = AlertsConfig()
    rules: RulesSection = RulesSection()
    #: TLS towards the broker checked by ``/readyz`` (``api.broker``), from ``[kafka]``.
    kafka: KafkaTlsSection = KafkaTlsSection()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_path())
        return (init_settings, env_settings, toml)

    @model_validator(mode="after")
    def _no_placeholder_secret(self) -> ApiSettings:
        key = self.api.auth.jwt_key.get_secret_value()
        if key == PLACEHOLDER_KEY:
            if self.environment != "development":
                raise ValueError(
                    f"api.auth.jwt_key is the shipped placeholder: set FENGHUO_API__AUTH__JWT_KEY "
                    f"(at least {MIN_KEY_BYTES} random bytes) in {self.environment}"
                )
            log.warning("api.auth.jwt_key is the placeholder: development only")
        elif len(key.encode()) < MIN_KEY_BYTES:
            raise ValueError(f"api.auth.jwt_key must have at least {MIN_KEY_BYTES} bytes")
        return self

    @model_validator(mode="after")
    def _metrics_protected(self) -> ApiSettings:
        self.api.metrics.require_token(self.environment)
        return self

    def masked(self) -> dict[str, Any]:
        """The effective configuration with secrets masked, for the start-up log line."""
        return self.model_dump(mode="json")


def config_path() -> Path:
    override = os.environ.get(CONFIG_ENV)
    return Path(override) if override else DEFAULT_CONFIG


def resolve(path: Path) -> Path:
    """A configured path: absolute as given, relative ones from the project root."""
    return path if path.is_absolute() else PROJECT_ROOT / path
