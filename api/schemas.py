"""Request and response models: query parameters (with their limits) and JSON bodies.

Every string a client sends has a length limit and, where ids are expected, a pattern; closed
sets (category, severity, …) are enums, so a typo is a 422 naming the parameter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from alerts import AlertStatus
from models import Category, Feed, InstitutionType, Severity

IdText = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
]
AgencyId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_.]*$")
]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
ALERT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$"
MAX_VALUES = 20


def _split_commas(value: Any) -> Any:
    """``?category=a,b`` and ``?category=a&category=b`` mean the same."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
    return value


T = TypeVar("T")
#: A repeatable (or comma-separated) query parameter of at most ``MAX_VALUES`` values.
Many = Annotated[list[T] | None, BeforeValidator(_split_commas), Field(max_length=MAX_VALUES)]


class AlertParams(BaseModel):
    """The filters shared by the list, CSV export, stats and the live stream."""

    model_config = ConfigDict(extra="forbid")

    category: Many[Category] = None
    severity: Many[Severity] = None
    status: Many[AlertStatus] = None
    feed: Many[Feed] = None
    institution_id: IdText | None = None
    institution_type: Many[InstitutionType] = None
    region_code: Many[RegionCode] = None
    route: Many[AgencyId] = Field(
        default=None, description="Alerts routed to any of these receivers (agencies)."
    )
    since: AwareDatetime | None = Field(default=None, description="Inclusive lower time bound.")
    until: AwareDatetime | None = Field(default=None, description="Exclusive upper time bound.")
    q: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None, description="Substring of the entity id or institution id (any case)."
    )


class ListParams(AlertParams):
    sort: Literal["last_seen", "first_seen"] = Field(
        default="last_seen",
        description="Newest first by this time; `first_seen` never changes, so its pages never "
        "shift; with `last_seen` an alert that repeats moves to the top.",
    )
    limit: int | None = Field(default=None, ge=1, le=10_000, description="Page size.")
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        default=None, description="`next_cursor` of the previous page."
    )


class StatsParams(AlertParams):
    group_by: Literal[
        "category", "severity", "region_code", "status", "institution_type", "feed"
    ] = "category"
    bucket: Literal["hour", "day", "week"] = "day"
    time: Literal["first_seen", "last_seen"] = Field(
        default="first_seen", description="Which alert time falls into the buckets."
    )


class StreamParams(AlertParams):
    last_event_id: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Resume after this event id (the Last-Event-ID header wins)."
    )


class HistoryOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    revision: int
    detail: dict[str, Any]


class AlertOut(BaseModel):
    """One alert as listed (``alert.schema.json``'s data plus the case fields)."""

    alert_id: str
    dedup_key: str
    category: Category
    severity: Severity
    score: float
    feed: Feed
    detector: dict[str, str]
    entity_type: str
    entity_id: str
    institution_id: str | None = None
    institution_type: str | None = None
    region_code: str | None = None
    routes: list[str]
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    status: AlertStatus
    revision: int
    resolved_at: datetime | None = None
    assignee: str | None = None
    escalation_level: int = 0
    false_positive: bool = False
    acknowledged_at: datetime | None = None


class AlertDetail(AlertOut):
    """One alert with what a regulator needs to act: evidence, explanation, events, audit."""

    evidence: dict[str, Any]
    explanation: list[dict[str, Any]]
    event_ids: list[str] = Field(description="Every source event id recorded for the alert.")
    history: list[HistoryOut]


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class ActionIn(BaseModel):
    """A case action. ``assign`` needs ``assignee`` (null unassigns), ``comment`` needs
    ``comment``; ``escalate`` may add ``receivers``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"action": "acknowledge", "comment": "looking into it"}]},
    )

    action: Literal["acknowledge", "assign", "comment", "escalate", "resolve", "false_positive"]
    comment: Annotated[str, StringConstraints(max_length=2000)] | None = None
    assignee: IdText | None = None
    receivers: list[AgencyId] = Field(default_factory=list, max_length=MAX_VALUES)


class ActionOut(BaseModel):
    alert: AlertOut
    history: list[HistoryOut]


class SilenceIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "matchers": ['category="usurious_rate"', 'institution_id="FJ-MC-0007"'],
                    "ends_at": "2026-12-01T00:00:00Z",
                    "comment": "known case, under on-site inspection",
                }
            ]
        },
    )

    matchers: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        min_length=1, max_length=MAX_VALUES
    )
    starts_at: AwareDatetime | None = Field(default=None, description="Default: now.")
    ends_at: AwareDatetime
    comment: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class SilenceOut(BaseModel):
    silence_id: str
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime
    expired_by: str | None = None
    active: bool


class CategoryRisk(BaseModel):
    category: Category
    open_alerts: int
    max_score: float


class TrendPoint(BaseModel):
    start: datetime
    alerts: int


class RiskProfile(BaseModel):
    institution_id: str
    open_alerts: int
    max_score: float
    max_severity: Severity | None
    by_category: list[CategoryRisk]
    trend: list[TrendPoint] = Field(description="Alerts first seen per day, oldest first.")


class StatsRow(BaseModel):
    start: datetime
    key: str | None
    alerts: int


class StatsOut(BaseModel):
    group_by: str
    bucket: str
    rows: list[StatsRow]
    total: int


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


#: Characters of a rule set's YAML (the request body limit, 64 KiB by default, applies first).
MAX_RULES_TEXT = 60_000
RulesComment = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class RulesIn(BaseModel):
    """A new rule set: the rules file's YAML as text (``yaml``) or as a JSON object
    (``rules``), and why it changes (``comment``, kept in the audit trail)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "yaml": "version: '2026-12'\nrate_cap:\n  lpr: 0.031\n",
                    "comment": "one-year LPR raised to 3.1 % (PBoC, December)",
                }
            ]
        },
    )

    yaml: Annotated[str, StringConstraints(min_length=1, max_length=MAX_RULES_TEXT)] | None = None
    rules: dict[str, Any] | None = Field(
        default=None, description="The same content as a JSON object (stored as YAML)."
    )
    comment: RulesComment

    @model_validator(mode="after")
    def _one_of(self) -> RulesIn:
        if (self.yaml is None) == (self.rules is None):
            raise ValueError("give the rules either as `yaml` text or as a `rules` object")
        return self


class ActivateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"comment": "back to November's rules: LPR misread"}]},
    )

    comment: RulesComment


class RuleErrorOut(BaseModel):
    location: str
    key: str
    line: int | None = Field(description="1-based line of the YAML; null when unknown.")
    message: str


class RulesSummary(BaseModel):
    version: str = Field(description="What findings carry as `detector.version`.")
    overrides: dict[str, Any] = Field(
        description="Every setting that differs from the built-in default (domain.md), by "
        "dotted key."
    )


class RuleChangeOut(BaseModel):
    at: datetime
    actor: str
    action: str
    version_id: int
    detail: dict[str, Any]


class RuleSetOut(BaseModel):
    version_id: int
    version: str = Field(description="`<declared version>+store.<version_id>`, on findings.")
    declared_version: str
    sha256: str
    created_by: str
    comment: str
    created_at: datetime
    active: bool
    activated_at: datetime | None = None
    activated_by: str | None = None


class RuleSetDetail(RuleSetOut):
    yaml: str
    summary: RulesSummary
    history: list[RuleChangeOut]


class RuleSetPage(BaseModel):
    items: list[RuleSetOut]
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null at the end."
    )


class RulesInForce(BaseModel):
    """The rules the worker runs: the active stored set, else the rules file."""

    source: Literal["store", "file"]
    version: str | None
    yaml: str
    summary: RulesSummary | None
    rule_set: RuleSetDetail | None = None
    file: str = Field(description="The rules file (used while no stored set is active).")
    errors: list[RuleErrorOut] = Field(
        default_factory=list, description="Problems of the rules file as the API reads it."
    )


class RulesChangeOut(BaseModel):
    changed: bool = Field(description="False: the rules were already these (nothing stored).")
    rule_set: RuleSetDetail
