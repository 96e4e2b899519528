"""``/v1/alerts``: filtered, cursor-paged lists (JSON or CSV) and one alert in full.

Every query carries the caller's agency scope; an alert routed elsewhere is a 404, exactly
like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse

from alerts import AlertRepository
from alerts.store import AlertReader
from api.deps import CallerDep, SessionDep, SettingsDep
from api.export import csv_lines
from api.present import alert_detail, alert_out
from api.problems import not_found
from api.query import alert_query, page_size
from api.schemas import ALERT_ID_PATTERN, AlertDetail, AlertPage, ListParams

router = APIRouter(prefix="/v1", tags=["alerts"])

CSV = "text/csv"
AlertId = Annotated[str, Path(max_length=64, pattern=ALERT_ID_PATTERN, examples=["al-3f2a…"])]
_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {"schema": {"type": "string"}}}, "description": "CSV, header first."}
}


def _wants_csv(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return CSV in accept and "application/json" not in accept


def _csv_response(request: Request, params: ListParams, caller: CallerDep, max_rows: int) -> Any:
    """The whole query as CSV; ``limit`` (if given) caps the rows below ``export_max_rows``."""
    rows = min(params.limit or max_rows, max_rows)
    lines = csv_lines(
        request.app.state.engine, alert_query(params, caller), sort=params.sort, max_rows=rows
    )
    headers = {"Content-Disposition": 'attachment; filename="alerts.csv"'}
    return StreamingResponse(lines, media_type=f"{CSV}; charset=utf-8", headers=headers)


@router.get(
    "/alerts",
    response_model=AlertPage,
    responses=_CSV_RESPONSE,
    summary="List alerts (newest first, cursor pages); Accept: text/csv exports the query",
)
def list_alerts(
    request: Request,
    params: Annotated[ListParams, Query()],
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Any:
    limits = settings.api.limits
    if _wants_csv(request):
        return _csv_response(request, params, caller, limits.export_max_rows)
    page = AlertReader(session).page(
        alert_query(params, caller),
        limit=page_size(params.limit, limits),
        cursor=params.cursor,
        sort=params.sort,
    )
    return {"items": [alert_out(a) for a in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/alerts.csv",
    response_class=StreamingResponse,
    responses=_CSV_RESPONSE,
    summary="Export the alerts of a query as CSV (same filters as the list)",
)
def export_alerts(
    request: Request,
    params: Annotated[ListParams, Query()],
    caller: CallerDep,
    settings: SettingsDep,
) -> Any:
    return _csv_response(request, params, caller, settings.api.limits.export_max_rows)


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertDetail,
    summary="One alert: evidence, explanation, every source event id and the audit trail",
)
def get_alert(alert_id: AlertId, caller: CallerDep, session: SessionDep) -> Any:
    alert = AlertReader(session).get(alert_id, scope=caller.scope)
    if alert is None:
        raise not_found()
    repo = AlertRepository(session)
    return alert_detail(
        alert, event_ids=repo.event_ids_of(alert_id), history=repo.history(alert_id)
    )
