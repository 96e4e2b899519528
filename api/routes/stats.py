"""``GET /v1/stats``: alert counts by category, severity, region (…) over time buckets.

Counted in SQL within the caller's scope, so totals never include another agency's alerts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from alerts.store import AlertReader
from api.deps import CallerDep, SessionDep
from api.problems import ApiProblem
from api.query import alert_query
from api.schemas import StatsOut, StatsParams

router = APIRouter(prefix="/v1", tags=["stats"])

BUCKET_SECONDS = {"hour": 3600, "day": 86_400, "week": 7 * 86_400}
DEFAULT_BUCKETS = 30
MAX_BUCKETS = 1000


@router.get(
    "/stats",
    response_model=StatsOut,
    summary="Alert counts per time bucket and group (default: the last 30 buckets)",
)
def stats(params: Annotated[StatsParams, Query()], caller: CallerDep, session: SessionDep) -> Any:
    width = BUCKET_SECONDS[params.bucket]
    until = params.until or datetime.now(UTC)
    since = params.since or until - timedelta(seconds=width * DEFAULT_BUCKETS)
    if (until - since).total_seconds() / width > MAX_BUCKETS:
        message = f"at most {MAX_BUCKETS} {params.bucket} buckets between since and until"
        raise ApiProblem(
            422,
            message,
            kind="invalid-request",
            errors=[{"location": "query.since", "message": message}],
        )
    query = alert_query(params.model_copy(update={"since": since, "until": until}), caller)
    rows = AlertReader(session).counts(
        query, by=params.group_by, bucket_seconds=width, time_column=params.time
    )
    return {
        "group_by": params.group_by,
        "bucket": params.bucket,
        "rows": [{"start": r.bucket_start, "key": r.key, "alerts": r.count} for r in rows],
        "total": sum(r.count for r in rows),
    }
