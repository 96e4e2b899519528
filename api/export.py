"""CSV export of an alert query: every page, streamed, capped at ``export_max_rows``.

Cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR) are
prefixed with an apostrophe (OWASP CSV injection advice); ids never legitimately start so.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from alerts import Alert
from alerts.store import AlertQuery, AlertReader

COLUMNS = (
    "alert_id",
    "category",
    "severity",
    "score",
    "status",
    "feed",
    "entity_type",
    "entity_id",
    "institution_id",
    "institution_type",
    "region_code",
    "routes",
    "first_seen",
    "last_seen",
    "occurrences",
    "assignee",
    "escalation_level",
    "false_positive",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_BATCH = 500


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = ";".join(value) if isinstance(value, tuple | list) else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _row(alert: Alert) -> list[str]:
    return [_cell(getattr(alert, name)) for name in COLUMNS]


def csv_lines(engine: Engine, query: AlertQuery, *, sort: str, max_rows: int) -> Iterator[str]:
    """The header, then one line per alert, newest first, page by page (fresh session each)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    cursor: str | None = None
    left = max_rows
    while left > 0:
        with Session(engine) as session:
            page = AlertReader(session).page(
                query,
                limit=min(_BATCH, left),
                cursor=cursor,
                sort=sort,  # type: ignore[arg-type]
            )
        for alert in page.items:
            writer.writerow(_row(alert))
        left -= len(page.items)
        yield flush()
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
