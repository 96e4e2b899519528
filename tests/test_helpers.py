"""The test helpers themselves: waiting with a deadline."""

from __future__ import annotations

import itertools

import pytest

from tests.helpers import WaitTimeout, unique_name, wait_for


def test_wait_for_returns_the_first_truthy_value() -> None:
    values = iter([0, None, [], "ready", "later"])
    assert wait_for(lambda: next(values), timeout=5, interval=0.001) == "ready"


def test_wait_for_fails_at_the_deadline_naming_the_condition() -> None:
    calls = itertools.count()

    def broker_is_up() -> bool:
        next(calls)
        return False

    with pytest.raises(WaitTimeout, match=r"broker_is_up did not hold within 0\.05 s"):
        wait_for(broker_is_up, timeout=0.05, interval=0.01)
    assert next(calls) >= 2  # it kept trying until the deadline


def test_wait_for_timeout_is_a_test_failure() -> None:
    assert issubclass(WaitTimeout, AssertionError)


@pytest.mark.parametrize(("timeout", "interval"), [(0, 0.1), (1, 0), (-1, 0.1)])
def test_wait_for_rejects_non_positive_durations(timeout: float, interval: float) -> None:
    with pytest.raises(ValueError, match="timeout and interval must be > 0"):
        wait_for(lambda: True, timeout=timeout, interval=interval)


def test_unique_names_keep_the_prefix_and_differ() -> None:
    first, second = unique_name("loans"), unique_name("loans")
    assert first.startswith("loans-") and second.startswith("loans-")
    assert first != second
