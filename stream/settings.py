"""The worker's configuration: one root ``BaseSettings`` with a plain ``BaseModel`` per section.

Sources, strongest first: keyword arguments, environment (``FENGHUO_<SECTION>__<KEY>``), the
TOML file (``deploy/config/fenghuo.toml`` or the path in ``FENGHUO_CONFIG``), then the defaults
below, which run the whole pipeline on one laptop.
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
from sqlalchemy.engine import make_url

from alerts.config import AlertsConfig
from models.ml.config import MLConfig
from models.scrape_token import ScrapeTokenSection

log = logging.getLogger(__name__)

#: The repository (or installed tree) root: relative paths in the config are resolved from here.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = PROJECT_ROOT / "deploy" / "config" / "fenghuo.toml"
CONFIG_ENV = "FENGHUO_CONFIG"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TopicConfig(_Section):
    """One topic: its base name (the suffix is added on top) and partition count."""

    name: str = Field(min_length=1)
    partitions: int = Field(ge=1)


class TopicsSection(_Section):
    """Every topic the worker reads or writes; dead-letter topics are ``<feed name>.dlq``."""

    institutions: TopicConfig = TopicConfig(name="institutions", partitions=4)
    loans: TopicConfig = TopicConfig(name="loans", partitions=4)
    guarantees: TopicConfig = TopicConfig(name="guarantees", partitions=4)
    trades: TopicConfig = TopicConfig(name="trades", partitions=4)
    loans_by_borrower: TopicConfig = TopicConfig(name="loans-by-borrower", partitions=4)
    #: The guarantee graph must be whole in one place, hence one partition.
    guarantee_network: TopicConfig = TopicConfig(name="guarantee-network", partitions=1)
    #: Composite detectors (regional clusters) need findings of all institutions together.
    findings: TopicConfig = TopicConfig(name="findings", partitions=1)
    alerts: TopicConfig = TopicConfig(name="alerts", partitions=4)
    dead_letter_partitions: int = Field(1, ge=1)


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSection(_Section):
    bootstrap: str = "127.0.0.1:19092"
    app_id: str = "fenghuo-worker"
    #: Appended to every topic name, so tests can run isolated on a shared broker.
    topic_suffix: str = ""
    replication_factor: int = Field(1, ge=1)
    topics: TopicsSection = TopicsSection()
    #: Most bytes one fetch takes from a partition. Faust's 1 MiB default holds ~15 records
    #: near ``input.max_event_bytes``, and a partition of such records is then read a round
    #: trip at a time: a flood of oversized records left the worker idle half the time.
    fetch_bytes_per_partition: int = Field(4 * 1024 * 1024, ge=64 * 1024)
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    #: How clients reach the brokers; ``stream.security`` turns these into client options.
    #: Left unset with SASL credentials given, it is SASL_PLAINTEXT (the older config).
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "PLAIN"
    #: PEM CA bundle that signed the brokers' certificates; None: the system's trust store.
    ssl_cafile: Path | None = None
    #: Client certificate (PEM) and its key, for brokers that require mutual TLS.
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_password: SecretStr | None = None
    ssl_check_hostname: bool = True

    @model_validator(mode="after")
    def _security_consistent(self) -> KafkaSection:
        credentials = self.sasl_username is not None or self.sasl_password is not None
        complete = self.sasl_username is not None and self.sasl_password is not None
        implicit = "security_protocol" not in self.model_fields_set
        if complete and implicit:
            self.security_protocol = "SASL_PLAINTEXT"
        protocol = self.security_protocol
        if protocol.startswith("SASL_"):
            if not self.sasl_username or self.sasl_password is None:
                raise ValueError(
                    f"kafka.security_protocol={protocol} needs kafka.sasl_username and "
                    "kafka.sasl_password"
                )
        elif credentials and implicit:  # half a pair never turned SASL on: as before, unused
            log.warning("kafka.sasl_username/sasl_password: only one is set, SASL stays off")
        elif credentials:
            raise ValueError(
                f"kafka.sasl_username/sasl_password are set but kafka.security_protocol="
                f"{protocol} does not use SASL (SASL_PLAINTEXT or SASL_SSL does)"
            )
        tls = {
            name: value
            for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_password")
            if (value := getattr(self, name)) is not None
        }
        if tls and not protocol.endswith("SSL"):
            raise ValueError(
                f"kafka.{', kafka.'.join(tls)} set but kafka.security_protocol={protocol} "
                "does not use TLS (SSL or SASL_SSL does)"
            )
        if self.ssl_certfile is None and (self.ssl_keyfile or self.ssl_password):
            raise ValueError("kafka.ssl_keyfile and kafka.ssl_password need kafka.ssl_certfile")
        return self


class InputSection(_Section):
    """Limits on what the worker accepts from the feeds."""

    max_event_bytes: int = Field(64 * 1024, ge=256)
    #: Recent event ids remembered per partition to skip resent events.
    recent_ids_per_partition: int = Field(50_000, ge=1)
    #: How long a business event of a not-yet-known institution waits for the registry to
    #: catch up before it is judged (seconds).
    registry_wait_seconds: float = Field(5.0, ge=0)


class RulesSection(_Section):
    path: Path = Path("deploy/config/rules.yaml")
    #: How often the worker looks for an edited rules file (no redeploy needed); 0: never.
    reload_seconds: float = Field(10.0, ge=0)


class MetricsSection(ScrapeTokenSection):
    """The worker's Prometheus endpoint (``stream.metrics_server``) and who may scrape it.

    ``token`` or ``token_file`` follow the API's rules (``models.scrape_token``): with one,
    ``/metrics`` needs ``Authorization: Bearer <token>``; without, it is open, which only
    ``development`` allows. ``/healthz`` (the probes) is always open.
    """

    section: ClassVar[str] = "metrics"

    #: Port of the Prometheus endpoint; 0 turns it off.
    port: int = Field(9464, ge=0, le=65535)
    interval_seconds: float = Field(10.0, gt=0)


class WorkerSettings(BaseSettings):
    """Everything the stream worker needs; each package owns its section's defaults."""

    model_config = SettingsConfigDict(
        env_prefix="FENGHUO_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    #: Anything but development refuses an open or development-token ``/metrics`` (as the API).
    environment: Literal["development", "staging", "production"] = "development"
    kafka: KafkaSection = KafkaSection()
    input: InputSection = InputSection()
    rules: RulesSection = RulesSection()
    alerts: AlertsConfig = AlertsConfig()
    ml: MLConfig = MLConfig()
    metrics: MetricsSection = MetricsSection()
    #: Seconds between alert lifecycle ticks (resolving quiet alerts, retrying deliveries).
    tick_interval_seconds: float = Field(30.0, gt=0)
    #: Drain the outbox (webhooks, e-mail, Alertmanager) in this worker; turn off when
    #: ``fenghuo alerts deliver`` runs as its own process.
    deliver: bool = True
    #: Faust's own data directory (one folder per app id below it); relative to the project.
    data_dir: Path = Path("var/worker")

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
    def _metrics_protected(self) -> WorkerSettings:
        if self.metrics.port:
            self.metrics.require_token(self.environment)
        return self

    def topic(self, name: str) -> str:
        """The real name of a configured topic (``loans`` -> ``loans`` + suffix)."""
        config: TopicConfig = getattr(self.kafka.topics, name)
        return config.name + self.kafka.topic_suffix

    def masked(self) -> dict[str, Any]:
        """The effective configuration with secrets masked, for the start-up log line.

        ``SecretStr`` fields dump masked already; a password written into the store URL is
        masked here too.
        """
        dump = self.model_dump(mode="json")
        store = dump["alerts"]["store"]
        store["url"] = make_url(store["url"]).render_as_string(hide_password=True)
        return dump


def config_path() -> Path:
    """The TOML file in force: ``FENGHUO_CONFIG`` or the shipped default."""
    override = os.environ.get(CONFIG_ENV)
    return Path(override) if override else DEFAULT_CONFIG


def resolve(path: Path) -> Path:
    """A configured path: absolute as given, relative ones from the project root."""
    return path if path.is_absolute() else PROJECT_ROOT / path
