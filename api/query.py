"""From validated query parameters and the caller to an ``AlertQuery`` of the store.

The caller's agency scope is always part of the query: a ``route`` filter can only narrow what
the caller sees, never widen it.
"""

from __future__ import annotations

from alerts import AlertFilter
from alerts.store import AlertQuery
from api.auth import Caller
from api.problems import ApiProblem
from api.schemas import AlertParams
from api.settings import LimitsSection


def alert_query(params: AlertParams, caller: Caller) -> AlertQuery:
    if params.since is not None and params.until is not None and params.until <= params.since:
        raise ApiProblem(
            422,
            "until must be after since",
            kind="invalid-request",
            errors=[{"location": "query.until", "message": "must be after since"}],
        )
    where = AlertFilter(
        category=params.category,
        severity=params.severity,
        status=params.status,
        feed=params.feed,
        institution_id=params.institution_id,
        institution_type=params.institution_type,
        region_code=params.region_code,
        receivers=params.route,
        since=params.since,
        until=params.until,
    )
    return AlertQuery(where=where, scope=caller.scope, text=params.q)


def page_size(limit: int | None, limits: LimitsSection) -> int:
    """The requested page size, or the default; above ``max_page_size`` is a 422."""
    if limit is None:
        return limits.default_page_size
    if limit > limits.max_page_size:
        message = f"must be at most {limits.max_page_size}"
        raise ApiProblem(
            422,
            f"query.limit: {message}",
            kind="invalid-request",
            errors=[{"location": "query.limit", "message": message}],
        )
    return limit
