"""``GET /v1/stream``: new and updated alerts as Server-Sent Events, resumable.

Each event is one audited change of an alert (opened, escalated, resolved, acknowledged, …);
its ``id`` is the change's history id, which only grows, so a client that reconnects with
``Last-Event-ID`` gets exactly the changes it missed. The stream polls the store (any number
of workers may write it) and re-reads a short window behind its position, because on
PostgreSQL a change can commit after a newer one already did; ids already sent are skipped.
Only alerts routed to the caller's agency, matching the filters, are sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from alerts.store import AlertQuery, AlertReader, Change
from api.deps import CallerDep, SettingsDep
from api.present import alert_out, history_out
from api.problems import ApiProblem
from api.query import alert_query
from api.schemas import StreamParams
from api.settings import StreamSection

router = APIRouter(prefix="/v1", tags=["stream"])

#: How many history ids behind its position the stream looks again for late commits.
REWIND = 100
BATCH = 500
EVENT_STREAM = "text/event-stream"


def _event(change: Change) -> str:
    data = jsonable_encoder(
        {
            "change_id": change.change_id,
            "change": history_out(change.entry),
            "alert": alert_out(change.alert),
        }
    )
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {change.change_id}\nevent: alert.{change.entry.action}\ndata: {body}\n\n"


def _fetch(engine: Engine, query: AlertQuery, after: int) -> list[Change]:
    with Session(engine) as session:
        return AlertReader(session).changes_after(query, after, limit=BATCH)


def _latest(engine: Engine) -> int:
    with Session(engine) as session:
        return AlertReader(session).last_change_id()


async def _events(
    request: Request, engine: Engine, query: AlertQuery, start: int, config: StreamSection
) -> AsyncIterator[str]:
    yield f"retry: {config.retry_ms}\n\n"
    position = start
    sent: set[int] = set()
    opened = last_beat = time.monotonic()
    while True:
        low = max(start, position - REWIND)
        changes = await run_in_threadpool(_fetch, engine, query, low)
        for change in changes:
            if change.change_id not in sent:
                sent.add(change.change_id)
                yield _event(change)
        if changes:
            position = max(position, changes[-1].change_id)
        sent = {i for i in sent if i > position - REWIND}
        now = time.monotonic()
        if now - opened >= config.max_connection_seconds or await request.is_disconnected():
            return
        if now - last_beat >= config.heartbeat_seconds:
            last_beat = now
            yield ": keep-alive\n\n"
        if len(changes) < BATCH:
            await anyio.sleep(config.poll_seconds)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {EVENT_STREAM: {"schema": {"type": "string"}}}}},
    summary="Live alert changes (Server-Sent Events), filtered, resumable with Last-Event-ID",
)
async def stream_alerts(
    request: Request,
    params: Annotated[StreamParams, Query()],
    caller: CallerDep,
    settings: SettingsDep,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", max_length=20, description="The last id you received."),
    ] = None,
) -> Any:
    query = alert_query(params, caller)
    engine: Engine = request.app.state.engine
    start = params.last_event_id
    if last_event_id is not None:
        if not last_event_id.isdigit():
            message = "must be the decimal id of an event of this stream"
            raise ApiProblem(
                422,
                f"header.Last-Event-ID: {message}",
                kind="invalid-request",
                errors=[{"location": "header.Last-Event-ID", "message": message}],
            )
        start = int(last_event_id)
    if start is None:
        start = await run_in_threadpool(_latest, engine)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _events(request, engine, query, start, settings.api.stream),
        media_type=EVENT_STREAM,
        headers=headers,
    )
