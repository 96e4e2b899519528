"""Where each receiver's notifications go (``deploy/config/delivery.yaml``) and how hard to try.

Receivers are the routing tree's ids; each lists its channels (webhooks, e-mail addresses,
Alertmanager URLs). Secrets never sit in the file: ``secret_env``/``password_env`` name the
environment variable holding them, read once at load into ``SecretStr`` (never logged).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from alerts.errors import RoutingConfigError
from alerts.routing import parse_duration

ChannelKind = Literal["webhook", "email", "alertmanager"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _durations(cls, value: Any, info: Any) -> Any:
        """Durations are written like the routing tree's: ``30s``, ``5m``, ``1h``."""
        annotation = cls.model_fields[info.field_name].annotation
        return parse_duration(value) if annotation is timedelta else value


def _secret_from_env(name: str | None, what: str) -> SecretStr | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise ValueError(f"{what}: environment variable {name} is not set")
    return SecretStr(value)


class WebhookTarget(_Spec):
    """A signed JSON POST; the receiver verifies ``Fenghuo-Signature`` with the shared secret."""

    kind: Literal["webhook"] = "webhook"
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr | None = None
    secret_env: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _secret_required(self) -> WebhookTarget:
        if self.secret is None:
            self.secret = _secret_from_env(self.secret_env, f"webhook {self.url}")
        if self.secret is None or not self.secret.get_secret_value():
            raise ValueError(f"webhook {self.url}: needs secret_env (or secret) to sign with")
        return self


class EmailTarget(_Spec):
    """One message per notification to these addresses, over the shared SMTP server."""

    kind: Literal["email"] = "email"
    to: list[str] = Field(min_length=1)


class AlertmanagerTarget(_Spec):
    """An Alertmanager (v2 API) base URL, e.g. ``http://alertmanager:9093``."""

    kind: Literal["alertmanager"] = "alertmanager"
    url: str = Field(pattern=r"^https?://")
    timeout_seconds: float = Field(default=10.0, gt=0)
    #: Active alerts are pushed with ``endsAt`` this far ahead (Alertmanager resolves an alert
    #: whose endsAt passed); the resolved notice ends them at once.
    active_for: timedelta = Field(default=timedelta(hours=24), gt=timedelta(0))


Target = WebhookTarget | EmailTarget | AlertmanagerTarget


class ReceiverChannels(_Spec):
    webhooks: list[WebhookTarget] = Field(default_factory=list)
    email: EmailTarget | None = None
    alertmanager: list[AlertmanagerTarget] = Field(default_factory=list)

    def channels(self) -> list[tuple[str, Target]]:
        """(channel name, target): the name is stable, so a retry skips channels already done."""
        found: list[tuple[str, Target]] = []
        found += [(f"webhook:{i}", t) for i, t in enumerate(self.webhooks)]
        if self.email is not None:
            found.append(("email", self.email))
        found += [(f"alertmanager:{i}", t) for i, t in enumerate(self.alertmanager)]
        return found


class SmtpConfig(_Spec):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = "fenghuo@localhost"
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    password_env: str | None = None
    timeout_seconds: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _password(self) -> SmtpConfig:
        if self.password is None:
            self.password = _secret_from_env(self.password_env, "smtp")
        return self


class RetryPolicy(_Spec):
    """Exponential backoff with jitter: ``min(initial * 2**(n-1), max) * (1 ± jitter)``."""

    max_attempts: int = Field(default=10, ge=1)
    initial: timedelta = Field(default=timedelta(seconds=30), gt=timedelta(0))
    max: timedelta = Field(default=timedelta(hours=1), gt=timedelta(0))
    jitter: float = Field(default=0.2, ge=0, lt=1)


class DeliveryConfig(_Spec):
    """The whole delivery file."""

    receivers: dict[str, ReceiverChannels] = Field(default_factory=dict)
    smtp: SmtpConfig | None = None
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    #: Link to an alert in messages, e.g. ``https://fenghuo.example/v1/alerts/{alert_id}``.
    alert_url: str | None = None
    #: Rows claimed per round; a claim is a lease: unsettled rows are retried after it.
    batch_size: int = Field(default=100, ge=1)
    lease: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0))
    poll_interval: timedelta = Field(default=timedelta(seconds=2), gt=timedelta(0))
    #: Group notifications per route (group_wait, group_interval from routing.yaml).
    grouping: bool = True

    @field_validator("alert_url")
    @classmethod
    def _one_placeholder(cls, url: str | None) -> str | None:
        if url is not None:
            try:
                url.format(alert_id="x")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"alert_url may only contain {{alert_id}}, got {url!r}") from exc
        return url

    @model_validator(mode="after")
    def _smtp_for_email(self) -> DeliveryConfig:
        mailing = sorted(r for r, c in self.receivers.items() if c.email is not None)
        if mailing and self.smtp is None:
            raise ValueError(f"receivers {mailing} send e-mail: an smtp section is required")
        return self

    def check_receivers(self, known: Iterable[str], *, source: str = "delivery") -> None:
        """Every configured receiver must be one the routing tree declares."""
        unknown = sorted(set(self.receivers) - set(known))
        if unknown:
            raise RoutingConfigError(f"{source}: unknown receivers {unknown} (not in routing)")

    @classmethod
    def from_file(cls, path: Path | str) -> DeliveryConfig:
        path = Path(path)
        try:
            doc: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise RoutingConfigError(f"{path}: cannot read the delivery config: {exc}") from exc
        try:
            return cls.model_validate(doc)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                for err in exc.errors(include_url=False)
            )
            raise RoutingConfigError(f"{path}: invalid delivery config: {problems}") from exc
