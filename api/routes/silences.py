"""``/v1/silences``: mute deliveries of matching alerts for a while (admins of every agency).

Silences are global (they mute a receiver's notifications whatever the agency), so only an
admin whose agency is ``*`` may list, create or expire them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, status

from alerts import Silences
from api.auth import ADMIN_ROLES, Caller
from api.deps import CallerDep, SessionDep, WriterSessionDep
from api.present import silence_out
from api.schemas import SilenceIn, SilenceOut

router = APIRouter(prefix="/v1/silences", tags=["silences"])

SilenceId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$")]


def _admin(caller: Caller, action: str) -> None:
    caller.require(ADMIN_ROLES, action)
    caller.require_global(action)


@router.get("", response_model=list[SilenceOut], summary="Every silence, newest first")
def list_silences(caller: CallerDep, session: SessionDep) -> Any:
    _admin(caller, "listing silences")
    now = datetime.now(UTC)
    return [silence_out(s, now=now) for s in Silences(session).all()]


@router.post(
    "",
    response_model=SilenceOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a silence (matchers over alert labels, an end and a reason)",
)
def create_silence(
    body: Annotated[SilenceIn, Body()], caller: CallerDep, session: WriterSessionDep
) -> Any:
    _admin(caller, "creating a silence")
    now = datetime.now(UTC)
    with session.begin():
        silence = Silences(session).create(
            matchers=list(body.matchers),
            starts_at=body.starts_at or now,
            ends_at=body.ends_at,
            created_by=caller.identity,
            comment=body.comment,
            now=now,
        )
    return silence_out(silence, now=now)


@router.post("/{silence_id}/expire", response_model=SilenceOut, summary="End a silence now")
def expire_silence(silence_id: SilenceId, caller: CallerDep, session: WriterSessionDep) -> Any:
    _admin(caller, "expiring a silence")
    now = datetime.now(UTC)
    with session.begin():
        silence = Silences(session).expire(silence_id, by=caller.identity, at=now)
    return silence_out(silence, now=now)
