"""``/v1/admin/rules``: read, change and roll back the detector rules (admins of every agency).

A rule set is the rules file's YAML. ``PUT`` validates it with the worker's own loader
(``models.rules_file``), stores it as a new version and activates it; the worker picks the
active version up within ``rules.reload_seconds`` and it wins over the rules file from then
on. Every version is kept: ``POST /versions/{id}/activate`` rolls back. Each change is in the
rules audit trail with the caller's identity. Rules are global (every agency's alerts depend
on them), so, like silences, only an admin of ``*`` may read or change them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts.store import RuleSetNotFound, RuleSets, SavedRuleSet
from api.auth import ADMIN_ROLES, Caller
from api.deps import CallerDep, SessionDep, SettingsDep, WriterSessionDep
from api.present import rule_errors, rule_set_detail, rule_set_out, rules_summary
from api.problems import ApiProblem, not_found
from api.query import page_size
from api.schemas import (
    ActivateIn,
    RulesChangeOut,
    RulesComment,
    RuleSetDetail,
    RuleSetPage,
    RulesIn,
    RulesInForce,
)
from api.settings import resolve
from models.rules_file import RulesFileError, load_rules

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/admin/rules", tags=["admin: rules"])

VersionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
EXAMPLE_YAML = "version: '2026-12'\nrate_cap:\n  lpr: 0.031\n"
PUT_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": RulesIn.model_json_schema(),
            "examples": {
                "yaml": {
                    "summary": "YAML text",
                    "value": {"yaml": EXAMPLE_YAML, "comment": "one-year LPR raised to 3.1 %"},
                },
                "object": {
                    "summary": "the same as a JSON object",
                    "value": {
                        "rules": {"version": "2026-12", "rate_cap": {"lpr": 0.031}},
                        "comment": "one-year LPR raised to 3.1 %",
                    },
                },
            },
        },
        "application/yaml": {
            "schema": {"type": "string"},
            "examples": {
                "lpr": {"summary": "the comment goes in ?comment=", "value": EXAMPLE_YAML}
            },
        },
    },
}


def _admin(caller: Caller, action: str) -> None:
    caller.require(ADMIN_ROLES, action)
    caller.require_global(action)


async def rules_body(
    request: Request,
    comment: Annotated[
        RulesComment | None, Query(description="Why the rules change (with a YAML body).")
    ] = None,
) -> RulesIn:
    """The new rules from a JSON body, or from a YAML body with ``?comment=``."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if media in YAML_TYPES:
        if comment is None:
            raise _invalid("query.comment", "a YAML body needs ?comment= (why the rules change)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid("body", "the YAML body is not UTF-8") from None
        try:
            return RulesIn(yaml=text, comment=comment)
        except ValidationError as exc:
            raise RequestValidationError(_located(exc, "body")) from None
    if media != "application/json":
        raise ApiProblem(
            415, "send the rules as application/json or application/yaml", kind="unsupported-media"
        )
    if comment is not None:
        raise _invalid("query.comment", "with a JSON body the comment goes in the body")
    try:
        return RulesIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(_located(exc, "body")) from None


def _located(exc: ValidationError, where: str) -> list[Any]:
    return [{**e, "loc": (where, *e["loc"])} for e in exc.errors()]


def _invalid(location: str, message: str) -> ApiProblem:
    return ApiProblem(
        422,
        f"{location}: {message}",
        kind="invalid-request",
        errors=[{"location": location, "message": message}],
    )


def _detail(sets: RuleSets, version_id: int) -> dict[str, Any]:
    return rule_set_detail(sets.get(version_id), sets.history(version_id))


def _change(session: Session, change: Any, caller: Caller, what: str) -> dict[str, Any]:
    """Run a rules change in one transaction; answer with the active set and whether it moved."""
    try:
        with session.begin():
            sets = RuleSets(session)
            saved: SavedRuleSet = change(sets)
            detail = _detail(sets, saved.rule_set.version_id)
    except RulesFileError as exc:
        errors = rule_errors(exc)
        detail_text = "; ".join(f"line {e['line']}: {e['key']}" for e in errors[:5])
        raise ApiProblem(
            422, f"invalid rules: {detail_text}", kind="invalid-rules", errors=errors
        ) from None
    except RuleSetNotFound:
        raise not_found("rule set") from None
    except IntegrityError:
        message = "the rules changed meanwhile: read them and retry"
        raise ApiProblem(409, message, kind="conflict") from None
    if saved.changed:
        log.info("rules %s: version %s active, by %s", what, saved.rule_set.stamp, caller.identity)
    return {"changed": saved.changed, "rule_set": detail}


@router.get("", response_model=RulesInForce, summary="The rules in force: stored set or file")
def get_rules(caller: CallerDep, session: SessionDep, settings: SettingsDep) -> Any:
    _admin(caller, "reading the rules")
    file = settings.rules.path
    sets = RuleSets(session)
    active = sets.active()
    if active is not None:
        detail = _detail(sets, active.version_id)
        return {
            "source": "store",
            "version": active.stamp,
            "yaml": active.yaml,
            "summary": detail["summary"],
            "rule_set": detail,
            "file": str(file),
        }
    return {"source": "file", "file": str(file), **_file_rules(resolve(file))}


def _file_rules(path: FilePath) -> dict[str, Any]:
    """The rules file as the API reads it (the worker reads its own copy of the same file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    try:
        params = load_rules(path, missing_ok=True)
    except RulesFileError as exc:
        return {"version": None, "yaml": text, "summary": None, "errors": rule_errors(exc)}
    return {"version": params.version, "yaml": text, "summary": rules_summary(params)}


@router.get("/versions", response_model=RuleSetPage, summary="Stored rule sets, newest first")
def list_versions(
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="Page size.")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="`next_before` of the last page.")
    ] = None,
) -> Any:
    _admin(caller, "listing rule sets")
    size = page_size(limit, settings.api.limits)
    found = RuleSets(session).page(limit=size + 1, before=before)
    more = len(found) > size
    items = found[:size]
    return {
        "items": [rule_set_out(s) for s in items],
        "next_before": items[-1].version_id if more else None,
    }


@router.get(
    "/versions/{version_id}",
    response_model=RuleSetDetail,
    summary="One stored rule set: its YAML, summary and audit trail",
)
def get_version(version_id: VersionId, caller: CallerDep, session: SessionDep) -> Any:
    _admin(caller, "reading a rule set")
    try:
        return _detail(RuleSets(session), version_id)
    except RuleSetNotFound:
        raise not_found("rule set") from None


@router.put(
    "",
    response_model=RulesChangeOut,
    summary="Store and activate new rules (validated like the rules file); same rules: no-op",
    openapi_extra={"requestBody": PUT_BODY},
)
def put_rules(
    caller: CallerDep, body: Annotated[RulesIn, Depends(rules_body)], session: WriterSessionDep
) -> Any:
    _admin(caller, "changing the rules")
    text = body.yaml
    if text is None:
        text = yaml.safe_dump(body.rules, sort_keys=False, allow_unicode=True)
    now = datetime.now(UTC)

    def save(sets: RuleSets) -> SavedRuleSet:
        return sets.save(text, actor=caller.identity, comment=body.comment, now=now)

    return _change(session, save, caller, "changed")


@router.post(
    "/versions/{version_id}/activate",
    response_model=RulesChangeOut,
    summary="Make a stored rule set the active one again (rollback)",
)
def activate_version(
    version_id: VersionId,
    caller: CallerDep,
    body: Annotated[ActivateIn, Body()],
    session: WriterSessionDep,
) -> Any:
    _admin(caller, "activating a rule set")
    now = datetime.now(UTC)

    def activate(sets: RuleSets) -> SavedRuleSet:
        return sets.activate(version_id, actor=caller.identity, comment=body.comment, now=now)

    return _change(session, activate, caller, "rolled back")
