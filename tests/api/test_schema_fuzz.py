"""Property-based run of the OpenAPI schema (schemathesis, in-process ASGI): whatever a client
sends, within or outside the schema, the API never answers 5xx.

Bounded: ``EXAMPLES`` generated requests per operation, so the whole run takes seconds.
"""

from __future__ import annotations

from collections.abc import Callable

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from prometheus_client import CollectorRegistry

from alerts import AlertPipeline
from api import ApiSettings, create_app
from tests.api.conftest import sector_findings

EXAMPLES = 15


def test_no_request_makes_the_server_fail(settings: ApiSettings, token: Callable[..., str]) -> None:
    stream = settings.api.stream.model_copy(update={"max_connection_seconds": 0.05})
    settings = settings.model_copy(
        update={"api": settings.api.model_copy(update={"stream": stream})}
    )
    app = create_app(settings, registry=CollectorRegistry())
    headers = {"Authorization": f"Bearer {token('admin', '*')}"}
    failures: list[str] = []
    tried = 0
    statuses: set[int] = set()
    with TestClient(app):  # runs the lifespan: the store is open and migrated
        pipeline = AlertPipeline.from_config(settings.alerts)
        pipeline.handle_batch(sector_findings().values())
        pipeline.close()
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy())
            @hypothesis_settings(
                max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
            )
            def call(case: schemathesis.Case) -> None:
                nonlocal tried
                tried += 1
                response = case.call(headers=headers)
                statuses.add(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

            call()
    assert tried >= 10 * EXAMPLES
    assert {200, 422} <= statuses  # the fuzzing got past validation, and was refused by it
    assert failures == []
