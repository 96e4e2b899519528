"""Composite detectors over findings: institution_risk_escalation and regional_cluster.

Both keep, per key, the latest event time (epoch seconds) of what they count, forget entries
older than the window (inclusive: exactly ``window_days`` apart still counts), and emit once
each time a new member takes the count to or beyond the threshold. Cleared findings and
composite findings never count, so escalations cannot feed themselves.
"""

from __future__ import annotations

from typing import Any

from models.categories import Category, DetectorKind, EntityType, Feed, Severity
from models.detector import Context, Detector, Partition
from models.findings import Finding

#: Categories built from other findings: never counted as evidence of more risk.
COMPOSITE_CATEGORIES = frozenset({Category.INSTITUTION_RISK_ESCALATION, Category.REGIONAL_CLUSTER})
#: Finding ids kept per member as a sample for the composite finding.
IDS_PER_MEMBER = 3


def _counts(finding: Finding) -> bool:
    return not (
        finding.cleared
        or finding.category in COMPOSITE_CATEGORIES
        or finding.detector.kind is DetectorKind.COMPOSITE
    )


def _record(
    state: dict[str, Any], member: str, finding: Finding, window_days: float
) -> tuple[bool, float]:
    """Note ``member`` at the finding's time; returns (it is new within the window, now)."""
    now = finding.event_time.timestamp()
    horizon = now - window_days * 86400.0
    members: dict[str, dict[str, Any]] = state.setdefault("members", {})
    for key in [k for k, v in members.items() if v["t"] < horizon]:
        del members[key]
    entry = members.get(member)
    is_new = entry is None
    if entry is None:
        entry = members[member] = {"t": now, "category": str(finding.category), "ids": []}
    entry["t"] = max(entry["t"], now)
    entry["ids"] = [*entry["ids"], *finding.event_ids][-IDS_PER_MEMBER:]
    return is_new, now


class InstitutionRiskEscalation(Detector):
    """institution_risk_escalation: 3 or more distinct categories at one institution within 7
    days (``params.escalation``: ``min_categories``, ``window_days``).

    Emits when a category new to the window brings the count to ``min_categories`` or more, so
    a 4th category updates the alert and repeats of a known category stay quiet. Example:
    usurious_rate, then delinquency_spike, then evergreening at FJ-MC-0007 within a week → fires
    on the evergreening finding.
    """

    feed = Feed.SYSTEM
    categories = (Category.INSTITUTION_RISK_ESCALATION,)
    kind = DetectorKind.COMPOSITE
    name = "institution_risk_escalation"
    partition = Partition.FINDINGS
    namespace = "institution_risk_escalation"

    def state_key(self, event: Finding) -> str | None:
        return event.institution_id if self._counts(event) else None

    def _counts(self, event: Finding) -> bool:
        return (
            _counts(event) and str(event.category) not in self.params.escalation.ignored_categories
        )

    def detect(self, event: Finding, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        if event.institution_id is None or not self._counts(event):
            return state, []
        p = self.params.escalation
        st = state if state is not None else {"members": {}}
        is_new, _ = _record(st, str(event.category), event, p.window_days)
        members = st["members"]
        if not is_new or len(members) < p.min_categories:
            return st, []
        ordered = sorted(members.items(), key=lambda kv: kv[1]["t"])
        evidence = {
            "method": "distinct categories within a sliding window",
            "observed": len(members),
            "baseline": 0,
            "threshold": p.min_categories,
            "window_days": p.window_days,
            "categories": [
                {"category": c, "last_seen_epoch": v["t"], "event_ids": v["ids"]}
                for c, v in ordered
            ],
            "new_category": str(event.category),
        }
        finding = Finding(
            category=Category.INSTITUTION_RISK_ESCALATION,
            severity=Severity.HIGH,
            score=min(1.0, len(members) / (p.min_categories + 2)),
            feed=event.feed,
            entity_type=EntityType.INSTITUTION,
            entity_id=event.institution_id,
            institution_id=event.institution_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence=evidence,
            event_ids=tuple(dict.fromkeys(i for _, v in ordered for i in v["ids"])),
            institution_type=event.institution_type,
            region_code=event.region_code,
        )
        return st, [finding]


class RegionalCluster(Detector):
    """regional_cluster: 3 or more institutions of one prefecture with delinquency_spike,
    compensation_spike or guarantee_contagion within 7 days (``params.regional_cluster``).

    The region is the finding's ``region_code`` (the engine fills it from the registry). Emits
    when an institution new to the window brings the count to ``min_institutions`` or more.
    Entity: region, no institution.
    """

    feed = Feed.SYSTEM
    categories = (Category.REGIONAL_CLUSTER,)
    kind = DetectorKind.COMPOSITE
    name = "regional_cluster"
    partition = Partition.FINDINGS
    namespace = "regional_cluster"

    def _region(self, event: Finding, ctx: Context | None = None) -> str | None:
        if event.region_code:
            return event.region_code
        if ctx is not None and event.institution_id is not None:
            record = ctx.registry.get(event.institution_id)
            return record.region_code if record is not None else None
        return None

    def _relevant(self, event: Finding) -> bool:
        return (
            _counts(event)
            and event.institution_id is not None
            and str(event.category) in self.params.regional_cluster.categories
        )

    def state_key(self, event: Finding) -> str | None:
        return self._region(event) if self._relevant(event) else None

    def detect(self, event: Finding, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        region = self._region(event, ctx)
        if region is None or event.institution_id is None or not self._relevant(event):
            return state, []
        p = self.params.regional_cluster
        st = state if state is not None else {"members": {}}
        is_new, _ = _record(st, event.institution_id, event, p.window_days)
        members = st["members"]
        if not is_new or len(members) < p.min_institutions:
            return st, []
        ordered = sorted(members.items(), key=lambda kv: kv[1]["t"])
        evidence = {
            "method": "distinct institutions with spikes or contagion within a sliding window",
            "observed": len(members),
            "baseline": 0,
            "threshold": p.min_institutions,
            "window_days": p.window_days,
            "categories_counted": list(p.categories),
            "institutions": [
                {
                    "institution_id": i,
                    "category": v["category"],
                    "last_seen_epoch": v["t"],
                    "event_ids": v["ids"],
                }
                for i, v in ordered
            ],
            "new_institution": event.institution_id,
        }
        finding = Finding(
            category=Category.REGIONAL_CLUSTER,
            severity=Severity.CRITICAL,
            score=min(1.0, len(members) / (p.min_institutions + 2)),
            feed=event.feed,
            entity_type=EntityType.REGION,
            entity_id=region,
            institution_id=None,
            event_time=event.event_time,
            detector=self.ref,
            evidence=evidence,
            event_ids=tuple(dict.fromkeys(i for _, v in ordered for i in v["ids"])),
            region_code=region,
        )
        return st, [finding]


COMPOSITE_DETECTORS: list[type[Detector]] = [InstitutionRiskEscalation, RegionalCluster]

__all__ = ["COMPOSITE_DETECTORS", "InstitutionRiskEscalation", "RegionalCluster"]
