"""The Prometheus scrape token of a ``/metrics`` endpoint: one set of rules for both processes.

The API (``[api.metrics]``) and the stream worker (``[metrics]``) each take ``token``, or
``token_file`` (a mounted secret that Prometheus reads too: its first line, stripped), of at
least ``MIN_TOKEN_BYTES`` bytes. Outside development a token of one's own is required. It lives
in ``models`` because that is the one package both ``api`` and ``stream`` may import (they never
import each other); it only reads a file and checks its length.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

__all__ = ["MIN_TOKEN_BYTES", "PLACEHOLDER_METRICS_TOKEN", "ScrapeTokenSection"]

#: The scrape token of the Compose stack's development default (deploy/docker/dev-metrics-token).
PLACEHOLDER_METRICS_TOKEN = "fenghuo-dev-metrics-token-change-me-in-production"
MIN_TOKEN_BYTES = 32


class ScrapeTokenSection(BaseModel):
    """Who may scrape a ``/metrics``: with a token, only ``Authorization: Bearer <token>``.

    Subclasses name their place in the configuration (``section``), which every error message
    and the environment variable it suggests are built from.
    """

    model_config = ConfigDict(extra="forbid")

    #: Dotted path of the section in fenghuo.toml, e.g. ``api.metrics``.
    section: ClassVar[str] = "metrics"

    token: SecretStr | None = None
    token_file: Path | None = None

    @model_validator(mode="after")
    def _read_token(self) -> ScrapeTokenSection:
        if self.token_file is not None:
            if self.token is not None:
                raise ValueError(f"{self.section}: set token or token_file, not both")
            try:
                text = self.token_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(
                    f"{self.section}.token_file {self.token_file}: {exc.strerror}"
                ) from None
            self.token = SecretStr(text.strip())
        if self.token is not None and len(self.token.get_secret_value().encode()) < MIN_TOKEN_BYTES:
            raise ValueError(f"{self.section}.token must have at least {MIN_TOKEN_BYTES} bytes")
        return self

    def require_token(self, environment: str) -> None:
        """Refuse an open endpoint or the shipped development token outside development."""
        if environment == "development":
            return
        if self.token is None:
            variable = "FENGHUO_" + self.section.upper().replace(".", "__") + "__TOKEN"
            raise ValueError(
                f"{self.section}.token is not set: /metrics would be open to anyone in "
                f"{environment}; set {variable} or __TOKEN_FILE (at least {MIN_TOKEN_BYTES} "
                "random bytes) and give Prometheus the same token"
            )
        if self.token.get_secret_value() == PLACEHOLDER_METRICS_TOKEN:
            raise ValueError(
                f"{self.section}.token is the shipped development token: use your own in "
                f"{environment} (e.g. `openssl rand -hex 32`)"
            )
