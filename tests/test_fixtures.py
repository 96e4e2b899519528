"""The shared fixtures: a missing PostgreSQL errors (never skips), markers follow fixtures."""

from __future__ import annotations

import pytest

_USES_POSTGRES = """
def test_store(postgres_url):
    assert postgres_url
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytest run of its own, with this project's fixture modules and no PostgreSQL URL."""
    monkeypatch.delenv("FENGHUO_TEST_POSTGRES_URL", raising=False)
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest('pytest_plugins = ["tests.fixtures.postgres"]')
    pytester.makepyfile(test_store=_USES_POSTGRES)
    return pytester


def test_missing_postgres_url_errors_with_what_to_set(inner: pytest.Pytester) -> None:
    result = inner.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*FENGHUO_TEST_POSTGRES_URL is not set: this test needs*"])


def test_missing_postgres_url_on_ci_fails_naming_ci(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "1")
    result = inner.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*FENGHUO_TEST_POSTGRES_URL is not set on CI*"])


def test_unreachable_postgres_errors_with_the_masked_url(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stream.broker import free_ports

    (port,) = free_ports(1)
    url = f"postgresql+psycopg://fenghuo:secret@127.0.0.1:{port}/fenghuo_test"
    monkeypatch.setenv("FENGHUO_TEST_POSTGRES_URL", url)
    result = inner.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*cannot connect to *fenghuo:***@127.0.0.1:{port}/fenghuo_test*"])
    assert "secret" not in result.stdout.str()


def test_tests_using_kafka_broker_get_the_kafka_marker(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
from tests.conftest import pytest_collection_modifyitems

@pytest.fixture
def kafka_broker():
    return "127.0.0.1:1"
"""
    )
    pytester.makepyfile(
        test_marked="""
def test_uses_broker(kafka_broker):
    pass

def test_plain():
    pass
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-m", "kafka")
    result.assert_outcomes(passed=1, deselected=1)
