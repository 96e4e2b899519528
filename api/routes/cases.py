"""``POST /v1/alerts/{id}/actions``: work a case (officers and admins), audited as the caller.

One action per request, in one transaction on the alert's current revision: a concurrent
change is a 409, never a silent overwrite.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from alerts import Alert, AlertsError, CaseWorkflow, HistoryEntry
from alerts.store import AlertReader
from api.auth import CASE_ROLES, Caller
from api.deps import CallerDep, RoutingDep, SettingsDep, WriterSessionDep
from api.present import alert_out, history_out
from api.problems import ApiProblem, not_found
from api.schemas import ALERT_ID_PATTERN, ActionIn, ActionOut

router = APIRouter(prefix="/v1/alerts", tags=["cases"])

AlertId = Annotated[str, Path(max_length=64, pattern=ALERT_ID_PATTERN)]
EXAMPLES = {
    "acknowledge": {"value": {"action": "acknowledge", "comment": "on it"}},
    "assign": {"value": {"action": "assign", "assignee": "officer.lin"}},
    "comment": {"value": {"action": "comment", "comment": "called the lender"}},
    "escalate": {
        "value": {"action": "escalate", "comment": "systemic", "receivers": ["coordination"]}
    },
    "resolve": {"value": {"action": "resolve", "comment": "rate corrected"}},
    "false_positive": {"value": {"action": "false_positive", "comment": "test loan"}},
}


def _act(workflow: CaseWorkflow, alert_id: str, body: ActionIn, caller: Caller) -> Alert:
    actor = caller.identity
    if body.action == "acknowledge":
        return workflow.acknowledge(alert_id, actor=actor, comment=body.comment)
    if body.action == "assign":
        return workflow.assign(alert_id, actor=actor, assignee=body.assignee)
    if body.action == "comment":
        if not body.comment or not body.comment.strip():
            raise ApiProblem(422, "a comment needs some text", kind="invalid-request")
        workflow.comment(alert_id, actor=actor, text=body.comment)
        return workflow.get(alert_id)
    if body.action == "escalate":
        return workflow.escalate(
            alert_id, actor=actor, reason=body.comment, receivers=body.receivers
        )
    if body.action == "resolve":
        return workflow.resolve(alert_id, actor=actor, comment=body.comment)
    return workflow.mark_false_positive(alert_id, actor=actor, comment=body.comment)


@router.post(
    "/{alert_id}/actions",
    response_model=ActionOut,
    summary="Acknowledge, assign, comment, escalate, resolve or mark a false positive",
)
def act_on_alert(
    alert_id: AlertId,
    body: Annotated[ActionIn, Body(openapi_examples=EXAMPLES)],
    caller: CallerDep,
    session: WriterSessionDep,
    routing: RoutingDep,
    settings: SettingsDep,
) -> Any:
    caller.require(CASE_ROLES, "working a case")
    with session.begin():
        if AlertReader(session).get(alert_id, scope=caller.scope) is None:
            raise not_found()
        workflow = CaseWorkflow(session, routing=routing, outbox=settings.alerts.outbox)
        try:
            after = _act(workflow, alert_id, body, caller)
        except AlertsError:
            raise
        except ValueError as exc:
            raise ApiProblem(422, str(exc), kind="invalid-request") from None
        history: list[HistoryEntry] = workflow.history(alert_id)
    return {"alert": alert_out(after), "history": [history_out(h) for h in history]}
