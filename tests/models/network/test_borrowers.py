from datetime import UTC, datetime, timedelta

import pytest

from models.categories import Category, EntityType
from models.detector import Context, Partition
from models.engine import RiskEngine
from models.events import Institution, Loan
from models.network import MultiLenderBorrowing
from models.params import DetectorParams, MultiLenderParams
from models.state import DictRegistry, DictStore

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LIVE = T0 + timedelta(days=3)  # well after the book's warm-up


def loan(
    lender: str,
    when: datetime,
    *,
    n: int = 0,
    event_type: str = "originated",
    borrower: str = "B-1",
    principal: float = 100_000.0,
) -> Loan:
    loan_id = f"L-{lender}-{n}"
    return Loan(
        event_id=f"e-{loan_id}-{event_type}-{when.timestamp()}",
        event_type=event_type,
        event_time=when,
        institution_id=lender,
        loan_id=loan_id,
        borrower_id=borrower,
        borrower_type="individual",
        principal=principal,
        outstanding=principal,
        annual_rate=0.1,
        term_days=180,
        days_past_due=0,
    )


def lender_record(lender: str) -> Institution:
    return Institution(
        event_id=f"i-{lender}",
        event_time=T0,
        institution_id=lender,
        name=lender,
        institution_type="microcredit",
        region_code="350100",
        registered_capital=1e8,
        net_assets=1e8,
        license_status="active",
    )


@pytest.fixture
def ctx() -> Context:
    return Context(registry=DictRegistry())


def run(events: list[Loan], ctx: Context, params: DetectorParams | None = None):
    det = MultiLenderBorrowing(params=params)
    state, findings = None, []
    for event in events:
        assert det.state_key(event) == event.borrower_id
        state, found = det.detect(event, state, ctx)
        findings.extend(found)
    return state, findings


def test_four_lenders_in_a_week_are_not_reported(ctx: Context) -> None:
    events = [loan(f"MC-{i}", LIVE + timedelta(days=i)) for i in range(4)]
    assert run(events, ctx)[1] == []


def test_fifth_lender_within_a_week_is_reported_on_its_loan(ctx: Context) -> None:
    events = [loan(f"MC-{i}", LIVE + timedelta(days=i)) for i in range(5)]
    _, findings = run(events, ctx)
    assert len(findings) == 1
    (f,) = findings
    assert f.category is Category.MULTI_LENDER_BORROWING
    assert f.entity_type is EntityType.BORROWER
    assert (f.entity_id, f.institution_id) == ("B-1", "MC-4")
    assert f.evidence["lenders"] == [f"MC-{i}" for i in range(5)]
    assert f.evidence["lender_count"] == 5
    assert f.evidence["total_principal"] == 500_000.0
    assert len(f.event_ids) == 5


@pytest.mark.parametrize(
    ("span", "reported"),
    [(timedelta(days=7), True), (timedelta(days=7, seconds=1), False)],
)
def test_window_of_exactly_seven_days_counts(ctx: Context, span: timedelta, reported: bool) -> None:
    times = [LIVE, LIVE + timedelta(days=1), LIVE + timedelta(days=2), LIVE + timedelta(days=3)]
    events = [loan(f"MC-{i}", t) for i, t in enumerate([*times, LIVE + span])]
    assert bool(run(events, ctx)[1]) is reported


def test_rollovers_and_extensions_are_not_new_borrowing(ctx: Context) -> None:
    events = [loan(f"MC-{i}", LIVE + timedelta(hours=i)) for i in range(4)]
    events.append(loan("MC-9", LIVE + timedelta(hours=5), event_type="extended"))
    assert run(events, ctx)[1] == []


def test_repeat_loan_from_a_counted_lender_does_not_report_again(ctx: Context) -> None:
    events = [loan(f"MC-{i}", LIVE + timedelta(hours=i)) for i in range(5)]
    events.append(loan("MC-0", LIVE + timedelta(hours=6), n=1))
    assert len(run(events, ctx)[1]) == 1


def test_each_further_lender_reports_again(ctx: Context) -> None:
    events = [loan(f"MC-{i}", LIVE + timedelta(hours=i)) for i in range(6)]
    findings = run(events, ctx)[1]
    assert [f.institution_id for f in findings] == ["MC-4", "MC-5"]


def test_late_loan_completes_the_window_it_belongs_to(ctx: Context) -> None:
    hours = [0, 10, 20, 30, 5]  # the 5th lender's loan arrives last but happened early
    events = [loan(f"MC-{i}", LIVE + timedelta(hours=h)) for i, h in enumerate(hours)]
    findings = run(events, ctx)[1]
    assert [f.institution_id for f in findings] == ["MC-4"]
    assert findings[0].evidence["window_start"] == LIVE.timestamp()


def test_redelivered_loan_is_counted_once(ctx: Context) -> None:
    events = [loan(f"MC-{i}", LIVE + timedelta(hours=i)) for i in range(4)]
    events.append(events[-1])
    assert run(events, ctx)[1] == []


def test_book_reported_at_the_start_is_not_new_borrowing() -> None:
    registry = DictRegistry()
    for i in range(6):
        registry.put(lender_record(f"MC-{i}"))
    ctx = Context(registry=registry)
    book = [loan(f"MC-{i}", T0 + timedelta(hours=1)) for i in range(4)]
    live = [loan("MC-4", T0 + timedelta(days=2)), loan("MC-5", T0 + timedelta(days=2, hours=1))]
    assert run([*book, *live], ctx)[1] == []


def test_unregistered_lender_counts_from_the_start() -> None:
    ctx = Context(registry=DictRegistry())
    events = [loan(f"MC-{i}", T0 + timedelta(hours=i)) for i in range(5)]
    assert len(run(events, ctx)[1]) == 1


def test_state_is_bounded(ctx: Context) -> None:
    params = DetectorParams(multi_lender=MultiLenderParams(max_loans=8))
    events = [loan("MC-0", LIVE + timedelta(minutes=i), n=i) for i in range(50)]
    state, _ = run(events, ctx, params)
    assert len(state["loans"]) == 8


def test_old_loans_leave_the_state(ctx: Context) -> None:
    events = [loan("MC-0", LIVE), loan("MC-1", LIVE + timedelta(days=30))]
    state, _ = run(events, ctx)
    assert [e[1] for e in state["loans"]] == ["MC-1"]


def test_engine_runs_it_on_loans_rekeyed_by_borrower() -> None:
    engine = RiskEngine(detectors=[MultiLenderBorrowing()])
    store, registry = DictStore(), DictRegistry()
    found = []
    for i in range(5):
        event = loan(f"MC-{i}", LIVE + timedelta(hours=i))
        assert engine.process(event, store=store, registry=registry).findings == []
        found += engine.process(
            event, store=store, registry=registry, partition=Partition.BORROWER
        ).findings
    assert [f.entity_id for f in found] == ["B-1"]
    assert len(store.get("multi_lender_borrowing", "B-1")["loans"]) == 5
