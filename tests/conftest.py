"""Session-wide fixtures: a real Kafka broker and its clients, and the test PostgreSQL URL.

Tests that use ``kafka_broker`` or ``postgres_url`` get the ``kafka`` / ``postgres`` marker
automatically, so ``-m "not kafka"`` deselects exactly them.
"""

from __future__ import annotations

import pytest

pytest_plugins = [
    "pytester",
    "tests.fixtures.kafka",
    "tests.fixtures.postgres",
    "tests.fixtures.certs",
    "tests.fixtures.kafka_tls",
]

_MARKER_OF_FIXTURE = {
    "kafka_broker": "kafka",
    "kafka_tls_broker": "kafka",
    "postgres_url": "postgres",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for fixture, marker in _MARKER_OF_FIXTURE.items():
            if fixture in fixtures and item.get_closest_marker(marker) is None:
                item.add_marker(marker)
