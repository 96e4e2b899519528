"""One OpenMP thread for scikit-learn's gradient boosting.

On a small shared machine OpenMP threads spin against the worker and each other: a 64-row
predict took 96 ms with the default pool and 10 ms with one thread. The controller is cached
because discovering the loaded thread pools costs milliseconds per call.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cache
from typing import Any

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def single_thread() -> AbstractContextManager[Any]:
    """Context in which OpenMP (gradient boosting) runs on one thread."""
    return _controller().limit(limits=1, user_api="openmp")  # type: ignore[no-any-return]
