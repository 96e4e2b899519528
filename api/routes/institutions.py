"""``GET /v1/institutions/{id}/risk``: an institution's current risk, as far as the caller sees.

Only alerts routed to the caller's agency count; an institution with none visible is a 404
whether or not other agencies have alerts on it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime

from alerts import ACTIVE_STATUSES, AlertFilter
from alerts.store import AlertQuery, AlertReader
from api.deps import CallerDep, SessionDep
from api.problems import not_found
from api.schemas import RiskProfile
from models import Severity

router = APIRouter(prefix="/v1/institutions", tags=["institutions"])

DAY = 86_400
InstitutionId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$",
        examples=["FJ-MC-0007"],
    ),
]


@router.get(
    "/{institution_id}/risk",
    response_model=RiskProfile,
    summary="Open alerts by category, top score and severity, and the daily trend",
)
def institution_risk(
    institution_id: InstitutionId,
    caller: CallerDep,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=90, description="Trend length in days.")] = 14,
    until: Annotated[
        AwareDatetime | None, Query(description="End of the trend (default: now).")
    ] = None,
) -> Any:
    reader = AlertReader(session)
    every = AlertQuery(where=AlertFilter(institution_id=institution_id), scope=caller.scope)
    if sum(row.count for row in reader.counts(every)) == 0:
        raise not_found("institution")
    active = [str(s) for s in ACTIVE_STATUSES]
    open_query = AlertQuery(
        where=AlertFilter(institution_id=institution_id, status=active), scope=caller.scope
    )
    by_category = reader.counts(open_query, by="category")
    by_severity = reader.counts(open_query, by="severity")
    severities = [Severity(r.key) for r in by_severity if r.key]
    end = (until or datetime.now(UTC)).astimezone(UTC)
    last_day = datetime.fromtimestamp(int(end.timestamp()) // DAY * DAY, UTC)
    first_day = last_day - timedelta(days=days - 1)
    trend_query = AlertQuery(
        where=AlertFilter(
            institution_id=institution_id, since=first_day, until=last_day + timedelta(days=1)
        ),
        scope=caller.scope,
    )
    counted = {r.bucket_start: r.count for r in reader.counts(trend_query, bucket_seconds=DAY)}
    trend = [
        {"start": day, "alerts": counted.get(day, 0)}
        for day in (first_day + timedelta(days=i) for i in range(days))
    ]
    return {
        "institution_id": institution_id,
        "open_alerts": sum(r.count for r in by_category),
        "max_score": max((r.max_score for r in by_category), default=0.0),
        "max_severity": max(severities, key=lambda s: s.rank) if severities else None,
        "by_category": [
            {"category": r.key, "open_alerts": r.count, "max_score": r.max_score}
            for r in by_category
        ],
        "trend": trend,
    }
