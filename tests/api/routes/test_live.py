"""``GET /v1/stream``: Server-Sent Events of alert changes, scoped, filtered and resumable.

The test settings end each connection after 0.6 s (``max_connection_seconds``), so a test
reads a whole, finite stream.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from alerts import AlertPipeline, make_engine
from alerts.store import AlertQuery
from api import ApiSettings
from api.routes.live import _events
from models import Category
from tests.api.conftest import Headers, Loaded, make_finding

AsFn = Callable[[str, str], Headers]


def events(text: str) -> list[dict[str, Any]]:
    """The events of an SSE body: id, event name and decoded data (comments skipped)."""
    found = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if "data" in fields:
            found.append(
                {
                    "id": int(fields["id"]),
                    "event": fields["event"],
                    "data": json.loads(fields["data"]),
                }
            )
    return found


def stream(client: TestClient, headers: Headers, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/v1/stream{query}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return events(response.text)


def test_stream_replays_changes_after_last_event_id_within_scope(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    got = stream(client, as_("regulator", "eic") | {"Last-Event-ID": "0"})
    assert [e["data"]["alert"]["alert_id"] for e in got] == [
        loaded.ids["usury"],
        loaded.ids["concentration"],
    ]
    assert {e["event"] for e in got} == {"alert.opened"}
    assert got[0]["id"] < got[1]["id"]


def test_resuming_with_last_event_id_sends_only_what_was_missed(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    headers = as_("admin", "*")
    everything = stream(client, headers | {"Last-Event-ID": "0"})
    resumed = stream(client, headers | {"Last-Event-ID": str(everything[2]["id"])})
    assert [e["id"] for e in resumed] == [e["id"] for e in everything[3:]]


def test_stream_filters_like_the_list(client: TestClient, loaded: Loaded, as_: AsFn) -> None:
    got = stream(client, as_("admin", "*"), "?last_event_id=0&severity=critical")
    assert [e["data"]["alert"]["alert_id"] for e in got] == [loaded.ids["cluster"]]


def test_fresh_stream_sends_new_changes_as_they_happen(
    client: TestClient, loaded: Loaded, pipeline: AlertPipeline, as_: AsFn
) -> None:
    late = make_finding(
        Category.USURIOUS_RATE,
        entity_id="L-LATE",
        institution_id="FJ-MC-0007",
        institution_type="microcredit",
        minutes=30,
    )
    timer = threading.Timer(0.2, pipeline.handle, args=(late,))
    timer.start()
    try:
        got = stream(client, as_("regulator", "eic"))
    finally:
        timer.join()
    assert [(e["event"], e["data"]["alert"]["entity_id"]) for e in got] == [
        ("alert.opened", "L-LATE")
    ]


def test_case_actions_appear_on_the_stream_with_their_actor(
    client: TestClient, loaded: Loaded, as_: AsFn
) -> None:
    headers = as_("officer", "eic")
    start = stream(client, headers | {"Last-Event-ID": "0"})[-1]["id"]
    client.post(
        f"/v1/alerts/{loaded.ids['usury']}/actions", json={"action": "acknowledge"}, headers=headers
    )
    (got,) = stream(client, headers | {"Last-Event-ID": str(start)})
    assert got["event"] == "alert.acknowledged"
    assert got["data"]["change"]["actor"] == "officer@eic"
    assert got["data"]["alert"]["status"] == "acknowledged"


def test_bad_last_event_id_is_a_problem(client: TestClient, as_: AsFn) -> None:
    response = client.get("/v1/stream", headers=as_("admin", "*") | {"Last-Event-ID": "abc"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "header.Last-Event-ID"


class _Connected:
    """The one thing ``_events`` asks of the request: is the client still there."""

    async def is_disconnected(self) -> bool:
        return False


def test_a_change_committed_late_with_a_lower_id_is_still_sent_once(
    client: TestClient, loaded: Loaded, settings: ApiSettings
) -> None:
    """PostgreSQL can commit history id 8 after id 10 was read: the stream looks back for it."""
    engine = make_engine(settings.alerts.store)
    insert = text(
        "INSERT INTO alert_history (id, alert_id, at, actor, action, from_status, to_status,"
        " revision, detail) VALUES (:id, :alert, :at, 'late', 'commented', 'open', 'open', 1, '{}')"
    )

    def write(change_id: int) -> None:
        with engine.begin() as connection:
            connection.execute(
                insert, {"id": change_id, "alert": loaded.ids["usury"], "at": "2026-11-20 09:00:00"}
            )

    query = AlertQuery(scope=frozenset({"eic"}))
    config = settings.api.stream.model_copy(update={"max_connection_seconds": 0.3})

    async def read() -> list[str]:
        chunks = _events(_Connected(), engine, query, 5, config)  # type: ignore[arg-type]
        seen = [await anext(chunks), await anext(chunks)]  # retry, then event 10
        write(8)
        seen.extend([chunk async for chunk in chunks])
        return seen

    write(10)
    try:
        got = events("".join(asyncio.run(read())))
    finally:
        engine.dispose()
    assert [e["id"] for e in got] == [10, 8]
