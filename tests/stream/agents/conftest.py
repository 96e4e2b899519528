"""Single-agent tests run one agent under ``agent.test_context()`` (Faust's in-memory stream)."""

from __future__ import annotations

import pytest

from tests.stream.agents.kit import WorkerFactory, build_worker


@pytest.fixture
def make_worker() -> WorkerFactory:
    return build_worker
