from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models.categories import Category, EntityType, Severity
from models.detector import Context
from models.events import Trade
from models.findings import Finding
from models.network import WashTrade
from models.params import DetectorParams, NetworkParams, WashTradeParams
from models.state import DictRegistry

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
_n = iter(range(10**6))


def trade(
    seller: str,
    buyer: str,
    *,
    hour: float = 0.0,
    quantity: float = 1000.0,
    price: float = 3.0,
    seller_owner: str | None = None,
    buyer_owner: str | None = None,
) -> Trade:
    n = next(_n)
    return Trade(
        event_id=f"e-{n}",
        event_time=T0 + timedelta(hours=hour),
        venue_id="FJ-TV-1",
        product_id="HX-EQ-1",
        product_type="equity",
        trade_id=f"T{n}",
        buyer_account=buyer,
        seller_account=seller,
        buyer_owner_id=buyer_owner or f"O-{buyer}",
        seller_owner_id=seller_owner or f"O-{seller}",
        price=price,
        quantity=quantity,
        trading_mode="negotiated",
    )


def run(
    events: list[Trade], params: DetectorParams | None = None
) -> tuple[Any, list[list[Finding]]]:
    det = WashTrade(params=params)
    ctx = Context(registry=DictRegistry())
    state, per_event = None, []
    for event in events:
        assert det.state_key(event) == "HX-EQ-1"
        state, found = det.detect(event, state, ctx)
        per_event.append(found)
    return state, per_event


@pytest.mark.parametrize(
    ("seller", "buyer"), [("ACC-1", "ACC-2"), ("ACC-1", "ACC-1")], ids=["two_accounts", "one"]
)
def test_same_owner_on_both_sides_is_a_wash_trade(seller: str, buyer: str) -> None:
    event = trade(seller, buyer, seller_owner="OWN-1", buyer_owner="OWN-1")
    (f,) = run([event])[1][0]
    assert f.category is Category.WASH_TRADE
    assert f.entity_type is EntityType.PRODUCT
    assert (f.entity_id, f.institution_id) == ("HX-EQ-1", "FJ-TV-1")
    assert f.evidence["owner"] == "OWN-1"
    assert f.event_ids == (event.event_id,)
    assert f.severity is Severity.HIGH


def test_different_owners_trading_once_is_not_a_wash_trade() -> None:
    assert run([trade("ACC-1", "ACC-2")])[1] == [[]]


def test_lot_moving_round_three_accounts_is_a_wash_trade() -> None:
    events = [
        trade("A", "B", hour=0),
        trade("B", "C", hour=1, quantity=1010.0),
        trade("C", "A", hour=2, price=3.05),
    ]
    _, per_event = run(events)
    assert per_event[:2] == [[], []]
    (f,) = per_event[2]
    assert f.evidence["pattern"] == "circular"
    assert f.evidence["accounts"] == ["C", "A", "B"]
    assert set(f.event_ids) == {e.event_id for e in events}
    assert sorted(f.evidence["trade_ids"]) == sorted(e.trade_id for e in events)


def test_round_trip_between_two_accounts_is_a_wash_trade() -> None:
    _, per_event = run([trade("A", "B", hour=0), trade("B", "A", hour=3)])
    assert len(per_event[1]) == 1


@pytest.mark.parametrize(
    ("quantity", "price", "hour"),
    [(1100.0, 3.0, 2.0), (1000.0, 3.5, 2.0), (1000.0, 3.0, 80.0)],
    ids=["quantity_differs", "price_differs", "outside_window"],
)
def test_ring_needs_near_equal_legs_within_the_window(
    quantity: float, price: float, hour: float
) -> None:
    events = [
        trade("A", "B", hour=0),
        trade("B", "C", hour=1),
        trade("C", "A", hour=hour, quantity=quantity, price=price),
    ]
    assert run(events)[1][2] == []


def test_ring_of_five_accounts_is_beyond_the_bound() -> None:
    ring = ["A", "B", "C", "D", "E"]
    events = [
        trade(s, b, hour=i) for i, (s, b) in enumerate(zip(ring, ring[1:] + ring[:1], strict=True))
    ]
    assert all(found == [] for found in run(events)[1])


def test_ring_found_when_its_trades_arrive_out_of_order() -> None:
    events = [trade("B", "C", hour=1), trade("C", "A", hour=2), trade("A", "B", hour=0)]
    assert [len(found) for found in run(events)[1]] == [0, 0, 1]


def test_legs_running_backwards_in_time_are_not_a_ring() -> None:
    # A->B, then C->A before C has bought from B: no lot travels round the ring.
    events = [trade("A", "B", hour=1), trade("C", "A", hour=2), trade("B", "C", hour=3)]
    assert all(found == [] for found in run(events)[1])


def test_redelivered_trade_is_judged_once() -> None:
    first = trade("A", "B")
    state, _ = run([first, first])
    assert state["count"] == 1


def test_state_is_bounded() -> None:
    params = DetectorParams(network=NetworkParams(wash_trade=WashTradeParams(max_trades=8)))
    events = [trade(f"S{i}", f"B{i}", hour=i / 10) for i in range(40)]
    state, _ = run(events, params)
    assert state["count"] <= 8
    assert state["count"] == sum(len(legs) for legs in state["sellers"].values())
    assert "S39" in state["sellers"] and "S0" not in state["sellers"]


def test_trades_older_than_the_window_leave_the_state() -> None:
    params = DetectorParams(network=NetworkParams(wash_trade=WashTradeParams(max_trades=4)))
    events = [trade("A", "B", hour=0), *(trade(f"S{i}", "X", hour=100 + i) for i in range(4))]
    state, _ = run(events, params)
    assert "A" not in state["sellers"]
