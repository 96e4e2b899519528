from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.catalogue import build_engine
from models.categories import Category, DetectorKind, EntityType, Feed, Severity
from models.detector import Context
from models.escalation import InstitutionRiskEscalation, RegionalCluster
from models.events import Institution
from models.findings import DetectorRef, Finding
from models.params import DetectorParams, EscalationParams
from models.state import DictRegistry, DictStore

T0 = datetime(2026, 3, 2, tzinfo=UTC)
CTX = Context(registry=DictRegistry())


def finding(
    category: Category,
    *,
    days: float = 0.0,
    institution_id: str | None = "FJ-MC-0001",
    region_code: str | None = "350100",
    cleared: bool = False,
    kind: DetectorKind = DetectorKind.RULE,
) -> Finding:
    return Finding(
        category=category,
        severity=Severity.MEDIUM,
        score=0.5,
        feed=Feed.LOANS,
        entity_type=EntityType.INSTITUTION,
        entity_id=institution_id or "x",
        institution_id=institution_id,
        event_time=T0 + timedelta(days=days),
        detector=DetectorRef(kind, "test", "1"),
        event_ids=(f"ev-{category}-{institution_id}-{days}",),
        region_code=region_code,
        cleared=cleared,
    )


def run(det: InstitutionRiskEscalation | RegionalCluster, findings: list[Finding]) -> list[Finding]:
    states: dict[str | None, object] = {}
    out: list[Finding] = []
    for f in findings:
        key = det.state_key(f)
        state, found = det.detect(f, states.get(key), CTX)
        if key is not None:
            states[key] = state
        out.extend(found)
    return out


def test_two_categories_do_not_escalate() -> None:
    det = InstitutionRiskEscalation()
    cats = [Category.USURIOUS_RATE, Category.DELINQUENCY_SPIKE, Category.USURIOUS_RATE]
    assert run(det, [finding(c, days=i) for i, c in enumerate(cats)]) == []


def test_three_distinct_categories_escalate_once() -> None:
    det = InstitutionRiskEscalation()
    cats = [Category.USURIOUS_RATE, Category.DELINQUENCY_SPIKE, Category.EVERGREENING]
    out = run(det, [finding(c, days=i) for i, c in enumerate(cats)])
    assert len(out) == 1
    alert = out[0]
    assert (alert.category, alert.entity_type, alert.entity_id, alert.institution_id) == (
        Category.INSTITUTION_RISK_ESCALATION,
        EntityType.INSTITUTION,
        "FJ-MC-0001",
        "FJ-MC-0001",
    )
    assert alert.evidence["observed"] == 3
    assert alert.evidence["threshold"] == 3
    assert alert.detector.kind is DetectorKind.COMPOSITE


def test_loan_level_ml_scores_do_not_count_towards_escalation() -> None:
    det = InstitutionRiskEscalation()
    cats = [Category.USURIOUS_RATE, Category.LOAN_ANOMALY, Category.DEFAULT_RISK]
    assert run(det, [finding(c, days=i, kind=DetectorKind.ML) for i, c in enumerate(cats)]) == []


def test_ignored_categories_are_configurable() -> None:
    params = DetectorParams(escalation=EscalationParams(ignored_categories=()))
    det = InstitutionRiskEscalation(params=params)
    cats = [Category.USURIOUS_RATE, Category.LOAN_ANOMALY, Category.DEFAULT_RISK]
    assert len(run(det, [finding(c, days=i) for i, c in enumerate(cats)])) == 1


def test_repeated_category_after_escalation_stays_quiet_but_a_new_one_updates() -> None:
    det = InstitutionRiskEscalation()
    cats = [
        Category.USURIOUS_RATE,
        Category.DELINQUENCY_SPIKE,
        Category.EVERGREENING,
        Category.EVERGREENING,
        Category.LENDING_SURGE,
    ]
    out = run(det, [finding(c, days=i * 0.5) for i, c in enumerate(cats)])
    assert [f.evidence["new_category"] for f in out] == ["evergreening", "lending_surge"]


@pytest.mark.parametrize(("gap_days", "fires"), [(7.0, True), (7.0 + 1 / 86400, False)])
def test_seven_day_window_is_inclusive(gap_days: float, fires: bool) -> None:
    det = InstitutionRiskEscalation()
    out = run(
        det,
        [
            finding(Category.USURIOUS_RATE, days=0),
            finding(Category.DELINQUENCY_SPIKE, days=1),
            finding(Category.EVERGREENING, days=gap_days),
        ],
    )
    assert bool(out) is fires


@pytest.mark.parametrize(
    "third",
    [
        finding(Category.EVERGREENING, days=2, cleared=True),
        finding(Category.REGIONAL_CLUSTER, days=2),
        finding(Category.EVERGREENING, days=2, kind=DetectorKind.COMPOSITE),
    ],
    ids=["cleared", "composite-category", "composite-kind"],
)
def test_cleared_and_composite_findings_do_not_count(third: Finding) -> None:
    det = InstitutionRiskEscalation()
    first = [finding(Category.USURIOUS_RATE), finding(Category.DELINQUENCY_SPIKE, days=1)]
    assert run(det, [*first, third]) == []


def test_categories_at_different_institutions_do_not_add_up() -> None:
    det = InstitutionRiskEscalation()
    out = run(
        det,
        [
            finding(Category.USURIOUS_RATE, institution_id="FJ-MC-0001"),
            finding(Category.DELINQUENCY_SPIKE, institution_id="FJ-MC-0002"),
            finding(Category.EVERGREENING, institution_id="FJ-MC-0003"),
        ],
    )
    assert out == []


def spikes(institutions: list[str], *, region: str | None = "350500") -> list[Finding]:
    cats = [Category.DELINQUENCY_SPIKE, Category.COMPENSATION_SPIKE, Category.GUARANTEE_CONTAGION]
    return [
        finding(cats[i % 3], days=i, institution_id=inst, region_code=region)
        for i, inst in enumerate(institutions)
    ]


def test_two_institutions_in_a_region_are_not_a_cluster() -> None:
    assert run(RegionalCluster(), spikes(["A", "B", "A"])) == []


def test_three_institutions_in_a_region_are_a_cluster() -> None:
    out = run(RegionalCluster(), spikes(["A", "B", "C"]))
    assert len(out) == 1
    cluster = out[0]
    assert (cluster.category, cluster.entity_type, cluster.entity_id) == (
        Category.REGIONAL_CLUSTER,
        EntityType.REGION,
        "350500",
    )
    assert cluster.institution_id is None
    assert cluster.region_code == "350500"
    assert [i["institution_id"] for i in cluster.evidence["institutions"]] == ["A", "B", "C"]


def test_regional_cluster_ignores_other_categories() -> None:
    out = run(
        RegionalCluster(),
        [
            finding(Category.DELINQUENCY_SPIKE, institution_id="A"),
            finding(Category.COMPENSATION_SPIKE, institution_id="B"),
            finding(Category.USURIOUS_RATE, institution_id="C"),
        ],
    )
    assert out == []


@pytest.mark.parametrize(("gap_days", "fires"), [(7.0, True), (7.5, False)])
def test_regional_window_is_seven_days(gap_days: float, fires: bool) -> None:
    found = [
        finding(Category.DELINQUENCY_SPIKE, days=0, institution_id="A"),
        finding(Category.DELINQUENCY_SPIKE, days=1, institution_id="B"),
        finding(Category.DELINQUENCY_SPIKE, days=gap_days, institution_id="C"),
    ]
    assert bool(run(RegionalCluster(), found)) is fires


def test_regions_are_counted_apart() -> None:
    found = [
        *spikes(["A", "B"], region="350100"),
        finding(Category.DELINQUENCY_SPIKE, days=3, institution_id="C", region_code="350200"),
    ]
    assert run(RegionalCluster(), found) == []


def test_region_comes_from_the_registry_when_the_finding_lacks_it() -> None:
    registry = DictRegistry()
    registry.put(
        Institution(
            event_id="i-1",
            event_time=T0,
            institution_id="A",
            name="A",
            institution_type="microcredit",
            region_code="350700",
            registered_capital=1.0,
            net_assets=1.0,
            license_status="active",
        )
    )
    det = RegionalCluster()
    f = finding(Category.DELINQUENCY_SPIKE, institution_id="A", region_code=None)
    state, out = det.detect(f, None, Context(registry=registry))
    assert out == []
    assert list(state["members"]) == ["A"]


def test_the_engine_runs_both_composites_over_findings() -> None:
    engine = build_engine()
    store = DictStore()
    cats = [Category.DELINQUENCY_SPIKE, Category.USURIOUS_RATE, Category.EVERGREENING]
    found: list[Finding] = []
    for i, cat in enumerate(cats):
        found += engine.process_findings(
            [finding(cat, days=i)], store=store, registry=DictRegistry()
        ).findings
    for i, inst in enumerate(["FJ-MC-0002", "FJ-MC-0003"]):
        found += engine.process_findings(
            [finding(Category.DELINQUENCY_SPIKE, days=3 + i, institution_id=inst)],
            store=store,
            registry=DictRegistry(),
        ).findings
    assert [f.category for f in found] == [
        Category.INSTITUTION_RISK_ESCALATION,
        Category.REGIONAL_CLUSTER,
    ]
    assert store.size("institution_risk_escalation") == 3
    assert store.size("regional_cluster") == 1
