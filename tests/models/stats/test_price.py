from __future__ import annotations

import json
import random
from typing import Any

from models.categories import Category, EntityType
from models.detector import Context
from models.findings import Finding
from models.state import DictRegistry
from models.stats import PriceManipulation
from tests.models.stats.factories import trade

CTX = Context(registry=DictRegistry())


def background(days: int, rng: random.Random, price: float = 10.0) -> list[Any]:
    """Eight trades a day among 40 owners, the price a small random walk around 10."""
    events = []
    for day in range(days):
        for i in range(8):
            price *= 1.0 + rng.gauss(0, 0.004)
            events.append(trade(day * 24 + 9 + i * 0.75, price=round(price, 4)))
    return events


def pump(start_hour: float, owners: list[str], *, n: int = 12, rise: float = 0.35) -> list[Any]:
    """``owners`` trade among themselves at a price rising by ``rise`` over a few hours."""
    events = []
    for i in range(n):
        buyer, seller = owners[i % len(owners)], owners[(i + 1) % len(owners)]
        events.append(
            trade(
                start_hour + i * 0.25,
                price=round(10.0 * (1 + rise * (i + 1) / n), 4),
                buyer_owner_id=buyer,
                buyer_account=f"AC-{buyer}",
                seller_owner_id=seller,
                seller_account=f"AC-{seller}",
                quantity=500.0,
            )
        )
    return events


def run(events: list[Any]) -> tuple[Any, list[Finding]]:
    det, state, out = PriceManipulation(), None, []
    for e in events:
        state, found = det.detect(e, state, CTX)
        out.extend(found)
    return state, out


def test_pump_by_two_owners_fires_with_owners_in_evidence() -> None:
    rng = random.Random(3)
    _, found = run([*background(6, rng), *pump(6 * 24 + 9, ["M1", "M2"])])
    assert found, "a 35 % rise by two owners must fire"
    first = found[0]
    assert (first.category, first.entity_type, first.entity_id, first.institution_id) == (
        Category.PRICE_MANIPULATION,
        EntityType.PRODUCT,
        "HX-EQ-1",
        "FJ-TV-0001",
    )
    ev = first.evidence
    assert {o["owner_id"] for o in ev["owners"]} >= {"M1", "M2"}
    assert ev["owner_share"] >= 0.6
    assert ev["side"] == "buy"
    assert abs(ev["observed"]) >= ev["threshold"]
    assert {"baseline", "scale", "window_hours", "method"} <= ev.keys()


def test_same_move_spread_over_many_owners_does_not_fire() -> None:
    rng = random.Random(3)
    owners = [f"O{i}" for i in range(30)]
    _, found = run([*background(6, rng), *pump(6 * 24 + 9, owners, n=30)])
    assert found == []


def test_background_random_walk_does_not_fire() -> None:
    _, found = run(background(20, random.Random(11)))
    assert found == []


def test_pump_during_warm_up_is_not_judged() -> None:
    rng = random.Random(3)
    _, found = run([*background(1, rng), *pump(20, ["M1", "M2"])])
    assert found == []


def test_price_state_is_json_able() -> None:
    rng = random.Random(3)
    state, _ = run([*background(4, rng), *pump(4 * 24 + 9, ["M1", "M2"])])
    assert json.loads(json.dumps(state)) == state


def test_price_alarm_clears_when_the_price_returns() -> None:
    rng = random.Random(3)
    events = [*background(6, rng), *pump(6 * 24 + 9, ["M1", "M2"])]
    events += [trade(day * 24 + 9 + i, price=10.0) for day in (8, 9) for i in range(8)]
    _, found = run(events)
    assert not found[0].cleared
    assert found[-1].cleared
