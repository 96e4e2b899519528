"""Token buckets per caller: a burst, then one request per 1/rate seconds; 429 over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.ratelimit import RateLimiter
from api.settings import LimitsSection
from tests.api.conftest import Headers


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_is_allowed_then_the_caller_waits() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)


def test_tokens_come_back_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=1, clock=clock)
    limiter.take("a")
    clock.now = 0.5
    assert limiter.take("a") == 0.0


def test_callers_have_separate_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock())
    limiter.take("a")
    assert limiter.take("b") == 0.0


def test_forgets_the_least_recent_callers_beyond_its_bound() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, max_callers=2, clock=Clock())
    for key in ("a", "b", "c"):
        limiter.take(key)
    assert limiter.take("a") == 0.0  # "a" was forgotten: a full bucket again


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (1.0, 0)])
def test_bad_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be > 0 and burst >= 1"):
        RateLimiter(rate=rate, burst=burst)


@pytest.fixture
def limits() -> LimitsSection:
    return LimitsSection(max_page_size=100, rate_per_second=0.01, burst=2)


def test_http_caller_over_its_rate_gets_429_with_retry_after(
    client: TestClient, as_: Callable[[str, str], Headers]
) -> None:
    headers = as_("regulator", "eic")
    statuses = [client.get("/v1/alerts", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.get("/v1/alerts", headers=headers)
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["type"].endswith("rate-limited")
    assert client.get("/v1/alerts", headers=as_("regulator", "coordination")).status_code == 200
