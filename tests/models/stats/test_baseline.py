from __future__ import annotations

import itertools
import math
import random

import pytest

from models.params import BaselineParams
from models.stats.baseline import Transition, add, advance, judge, new_series, step

HOUR = 3600.0
P = BaselineParams(warmup_hours=0.0)


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method: fine for the small rates of these tests."""
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def feed(
    s: dict[str, object],
    counts: list[int],
    p: BaselineParams = P,
    *,
    start_hour: float = 0.0,
) -> list[tuple[int, Transition]]:
    """One tick per hour (so buckets roll) plus ``counts[h]`` events; returns the transitions."""
    out: list[tuple[int, Transition]] = []
    for h, c in enumerate(counts):
        for i in range(c + 1):
            t = (start_hour + h) * HOUR + (i + 1) * HOUR / (c + 2)
            advance(s, t, 1.0, p)
            if i < c:
                add(s, t, 1.0, p)
            tr = step(s, t, judge(s, 1.0, p), p)
            if tr is not None:
                out.append((h, tr))
    return out


def test_flat_then_jump_fires_within_the_day() -> None:
    s = new_series()
    transitions = feed(s, [2] * 96 + [10] * 24)
    assert transitions[0][1] is Transition.FIRE
    assert 96 <= transitions[0][0] < 96 + 12


def test_flat_poisson_noise_does_not_fire() -> None:
    rng = random.Random(7)
    s = new_series()
    assert feed(s, [poisson(rng, 2.0) for _ in range(24 * 30)]) == []


def test_jump_during_warm_up_is_not_judged() -> None:
    p = BaselineParams(warmup_hours=24.0)
    s = new_series()
    assert feed(s, [50] * 24 + [2] * 120, p) == []


def test_events_in_warm_up_are_not_counted() -> None:
    p = BaselineParams(warmup_hours=24.0)
    s = new_series()
    assert advance(s, 0.0, 1.0, p) is False
    assert advance(s, 23.9 * HOUR, 1.0, p) is False
    assert advance(s, 24.0 * HOUR, 1.0, p) is True


@pytest.mark.parametrize("burst", [3, 5])
def test_small_counts_do_not_alarm(burst: int) -> None:
    # about one event in four days, then a handful in one hour: not enough to be a signal
    counts = [1 if h % 96 == 0 else 0 for h in range(24 * 12)]
    s = new_series()
    p = BaselineParams(warmup_hours=0.0, min_events=0)
    assert feed(s, [*counts, burst], p) == []


def test_not_ready_before_min_baseline_hours() -> None:
    s = new_series()
    assert feed(s, [2] * 30 + [40] * 5) == []


def test_buckets_follow_event_time_not_arrival() -> None:
    s = new_series()
    advance(s, 0.0, 1.0, P)
    add(s, 0.0, 1.0, P)
    advance(s, 2.5 * HOUR, 1.0, P)
    add(s, 2.5 * HOUR, 1.0, P)
    assert s["cur"] == 2  # bucket of the event time, whatever the wall clock did
    advance(s, 25.0 * HOUR, 1.0, P)
    assert s["tot"] == 1.0  # hour 0 left the 24 h window (hours 2..25), hour 2 is still in
    advance(s, 26.0 * HOUR, 1.0, P)
    assert s["tot"] == 0.0


def test_late_event_inside_the_window_counts_and_older_is_dropped() -> None:
    s = new_series()
    advance(s, 10 * HOUR, 1.0, P)
    assert add(s, 9.5 * HOUR, 1.0, P) is True  # out of order but inside the window
    assert add(s, 10 * HOUR - 25 * HOUR, 1.0, P) is False
    assert s["tot"] == 1.0


def test_spike_clears_when_back_to_baseline() -> None:
    s = new_series()
    transitions = feed(s, [2] * 96 + [12] * 24 + [2] * 72)
    kinds = [tr for _, tr in transitions]
    assert kinds[0] is Transition.FIRE
    assert kinds[-1] is Transition.CLEAR
    assert not s["alarm"]


def test_long_spike_repeats_at_most_once_per_repeat_period() -> None:
    s = new_series()
    transitions = feed(s, [2] * 96 + [12] * 72)
    fired = [h for h, tr in transitions if tr is not Transition.CLEAR]
    every = round(P.repeat_hours / P.bucket_hours)
    assert 2 <= len(fired) <= 1 + 72 // every
    assert all(b - a >= every for a, b in itertools.pairwise(fired))


def test_baseline_is_frozen_while_alarm_holds() -> None:
    s = new_series()
    feed(s, [2] * 96 + [12] * 6)
    assert s["alarm"]
    level = s["level"]
    feed(s, [12] * 24, start_hour=102)
    assert s["level"] == level


def test_a_ramp_does_not_raise_its_own_baseline_before_it_fires() -> None:
    s = new_series()
    feed(s, [2] * 96)
    level = s["level"]
    feed(s, [3] * 12, start_hour=96)  # too little to fire, still inside the window
    assert not s["alarm"]
    assert s["level"] == pytest.approx(level, rel=0.05)


def test_spike_window_is_never_learned() -> None:
    s = new_series()
    feed(s, [2] * 96 + [12] * 24 + [2] * 96)
    assert not s["alarm"]
    assert s["level"] * 24 == pytest.approx(48.0, rel=0.1)


def test_rate_uses_exposure() -> None:
    s = new_series()
    for h in range(96):
        t = h * HOUR + 1
        advance(s, t, 1000.0, P)
        add(s, t, 1.0, P)
    assert judge(s, 1000.0, P).expected == pytest.approx(24.0, rel=0.05)
    assert judge(s, 2000.0, P).expected == pytest.approx(48.0, rel=0.05)


def test_state_is_json_able() -> None:
    import json

    s = new_series()
    feed(s, [2] * 60)
    assert json.loads(json.dumps(s)) == s


def test_a_lasting_new_level_becomes_the_baseline() -> None:
    s = new_series()
    transitions = feed(s, [2] * 96 + [12] * 24 * 20)
    assert transitions[0][1] is Transition.FIRE
    assert transitions[-1][1] is Transition.CLEAR
    assert not s["alarm"]


def test_young_baseline_widens_the_floor() -> None:
    young, mature = new_series(), new_series()
    feed(young, [2] * 48)
    feed(mature, [2] * 24 * 20)
    j_young, j_mature = judge(young, 1.0, P), judge(mature, 1.0, P)
    assert j_young.expected == pytest.approx(j_mature.expected, rel=0.1)
    assert j_young.scale > j_mature.scale
