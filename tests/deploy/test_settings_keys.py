"""The checker the deploy tests rely on: it must accept real names and refuse misspelt ones."""

from __future__ import annotations

import pytest

from tests.deploy.settings_keys import api_reads, worker_reads


@pytest.mark.parametrize(
    "name",
    [
        "FENGHUO_KAFKA__BOOTSTRAP",
        "FENGHUO_KAFKA__TOPICS__LOANS__PARTITIONS",
        "FENGHUO_ALERTS__STORE__PASSWORD",
        "FENGHUO_METRICS__PORT",
        "FENGHUO_METRICS__TOKEN",
        "FENGHUO_METRICS__TOKEN_FILE",
        "FENGHUO_ENVIRONMENT",
        "FENGHUO_CONFIG",
    ],
)
def test_worker_settings_names_are_recognised(name: str) -> None:
    assert worker_reads(name)


@pytest.mark.parametrize(
    "name",
    [
        "FENGHUO_KAFKA__BOOTSTRAPS",
        "FENGHUO_METRICS_PORT",
        "FENGHUO_API__HOST",
        "FENGHUO_KAFKA__BOOTSTRAP__HOST",
        "KAFKA__BOOTSTRAP",
    ],
)
def test_misspelt_or_foreign_names_are_refused_for_the_worker(name: str) -> None:
    assert not worker_reads(name)


def test_api_reads_its_own_sections_and_the_shared_store() -> None:
    assert api_reads("FENGHUO_API__AUTH__JWT_KEY")
    assert api_reads("FENGHUO_ALERTS__STORE__URL")
    assert api_reads("FENGHUO_ENVIRONMENT")
    assert not api_reads("FENGHUO_METRICS__PORT")
