"""Spikes against an entity's own baseline: delinquency_spike, compensation_spike,
lending_surge and volume_anomaly.

Each detector keeps one or two ``baseline`` series per entity (see ``models.stats.baseline``
for the method) and raises a finding when the trailing window jumps, repeats it at most once per
``repeat_hours`` while it holds, and says ``cleared=True`` when it is back near the baseline.
Evidence: observed, baseline, threshold, scale, window and method, plus the exposure.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any, ClassVar

from models.categories import Category, DetectorKind, EntityType, Feed, Severity
from models.detector import Context, Detector
from models.events import Guarantee, Loan, Trade
from models.findings import Finding
from models.params import BaselineParams
from models.stats.baseline import Judgement, Transition, add, advance, judge, new_series, score
from models.stats.baseline import step as alarm_step

#: Loan events that count as delinquency.
DELINQUENT = frozenset({"overdue", "default"})
#: Event ids kept per entity as a sample for the finding (matching and review).
RECENT_IDS = 10


def _new_state(*series: str) -> dict[str, Any]:
    return {"series": {name: new_series() for name in series}, "active": 0.0, "recent": []}


def _remember(state: dict[str, Any], event: Loan | Guarantee | Trade) -> None:
    """Keep the latest counted events (epoch seconds and id) as the finding's sample."""
    recent = state["recent"]
    recent.append([event.event_time.timestamp(), event.event_id])
    del recent[:-RECENT_IDS]


def _track_mean(state: dict[str, Any], key: str, value: float, half_life_events: float) -> float:
    """EWMA of the size of one event (loan principal, trade quantity), running-mean start."""
    n = int(state.get(f"{key}_n", 0))
    alpha = max(1.0 - math.pow(0.5, 1.0 / half_life_events), 1.0 / (n + 1))
    mean = float(state.get(key, 0.0))
    mean += alpha * (value - mean)
    state[key], state[f"{key}_n"] = mean, n + 1
    return mean


class _SpikeDetector(Detector):
    """Shared plumbing: build findings from a series' alarm transitions."""

    kind: ClassVar[DetectorKind] = DetectorKind.STATISTICAL
    entity_type: ClassVar[EntityType] = EntityType.INSTITUTION
    method: ClassVar[str] = "trailing-window sum vs EWMA level, EWMA-MAD scale, Poisson floor"

    def _finding(
        self,
        *,
        event: Loan | Guarantee | Trade,
        entity_id: str,
        institution_id: str,
        transition: Transition,
        judgement: Judgement,
        p: BaselineParams,
        unit: str,
        state: dict[str, Any],
        extra: dict[str, Any] | None = None,
    ) -> Finding:
        cleared = transition is Transition.CLEAR
        evidence = judgement.evidence(p, method=self.method, unit=unit)
        evidence["transition"] = str(transition)
        evidence.update(extra or {})
        high = judgement.ratio >= 2 * p.min_ratio
        since = event.event_time.timestamp() - p.window_hours * 3600.0
        ids = [i for t, i in state["recent"] if t > since] + [event.event_id]
        return Finding(
            category=self.categories[0],
            severity=Severity.INFO if cleared else (Severity.HIGH if high else Severity.MEDIUM),
            score=0.0 if cleared else score(judgement, p),
            feed=self.feed,
            entity_type=self.entity_type,
            entity_id=entity_id,
            institution_id=institution_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence=evidence,
            event_ids=tuple(dict.fromkeys(ids)),
            cleared=cleared,
        )


class _RateSpike(_SpikeDetector):
    """Events of interest per bucket over the active book (the exposure)."""

    unit: ClassVar[str]

    @abstractmethod
    def _params(self) -> BaselineParams:
        """This detector's section of ``params.stats``."""

    @abstractmethod
    def _delta_active(self, event: Any) -> float:
        """How the event changes the active book (the exposure): +1, -1 or 0."""

    @abstractmethod
    def _hit(self, event: Any) -> bool:
        """Whether the event counts towards the rate."""

    @abstractmethod
    def _entity(self, event: Any) -> str:
        """The institution the rate belongs to."""

    def detect(self, event: Any, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        if self.state_key(event) is None:
            return state, []
        p = self._params()
        st = state if state is not None else _new_state("rate")
        st["active"] = max(0.0, st["active"] + self._delta_active(event))
        exposure = max(st["active"], 1.0)
        series = st["series"]["rate"]
        t = event.event_time.timestamp()
        if not advance(series, t, exposure, p):
            return st, []
        if self._hit(event) and add(series, t, 1.0, p):
            _remember(st, event)
        j = judge(series, exposure, p)
        transition = alarm_step(series, t, j, p)
        if transition is None:
            return st, []
        entity = self._entity(event)
        extra = {
            "active_exposures": round(st["active"], 1),
            "baseline_rate_per_bucket": round(series["level"], 8),
        }
        finding = self._finding(
            event=event,
            entity_id=entity,
            institution_id=entity,
            transition=transition,
            judgement=j,
            p=p,
            unit=self.unit,
            state=st,
            extra=extra,
        )
        return st, [finding]


class DelinquencySpike(_RateSpike):
    """delinquency_spike: an institution's overdue/default events over its active loans jump.

    Rate = overdue + default events in the trailing window / active loans (originations and
    rollovers add a loan; a repayment to zero or a write-off removes one). Parameters in
    ``params.stats.delinquency_spike`` (window 24 h of 1 h buckets, z ≥ 5, ratio ≥ 2, excess
    ≥ 5 events, warm-up 24 h + 48 h). Example: 3 overdue events a day on 1,000 loans, then 20
    in one day → fires.
    """

    feed = Feed.LOANS
    categories = (Category.DELINQUENCY_SPIKE,)
    name = "delinquency_spike"
    namespace = "delinquency_spike"
    unit = "overdue/default events"

    def _params(self) -> BaselineParams:
        return self.params.stats.delinquency_spike

    def state_key(self, event: Loan) -> str:
        return event.institution_id

    def _delta_active(self, event: Loan) -> float:
        if event.event_type == "originated":
            return 1.0
        if event.event_type == "extended" and event.previous_loan_id:
            return 1.0
        if event.event_type == "written_off":
            return -1.0
        if event.event_type == "repayment" and event.outstanding <= 0:
            return -1.0
        return 0.0

    def _hit(self, event: Loan) -> bool:
        return event.event_type in DELINQUENT

    def _entity(self, event: Loan) -> str:
        return event.institution_id


class CompensationSpike(_RateSpike):
    """compensation_spike: a guarantee company's 代偿 (compensated) events over its active
    guarantees jump against its own baseline.

    Only guarantees whose guarantor is a guarantee company count (the company reports them);
    parameters in ``params.stats.compensation_spike``, same method as ``delinquency_spike``.
    """

    feed = Feed.GUARANTEES
    categories = (Category.COMPENSATION_SPIKE,)
    name = "compensation_spike"
    namespace = "compensation_spike"
    unit = "compensated events"

    def _params(self) -> BaselineParams:
        return self.params.stats.compensation_spike

    def state_key(self, event: Guarantee) -> str | None:
        if event.guarantor_type != "guarantee_company":
            return None
        return event.guarantor_id

    def _delta_active(self, event: Guarantee) -> float:
        if event.event_type == "issued":
            return 1.0
        if event.event_type == "released":
            return -1.0
        if event.event_type == "compensated" and event.outstanding <= 0:
            return -1.0
        return 0.0

    def _hit(self, event: Guarantee) -> bool:
        return event.event_type == "compensated"

    def _entity(self, event: Guarantee) -> str:
        return event.guarantor_id


class LendingSurge(_SpikeDetector):
    """lending_surge: an institution's originations jump several-fold against its baseline.

    Counts ``originated`` loans (new business; the re-reported book falls in the warm-up) and,
    with ``use_amount``, their principal in units of the institution's typical loan (compound
    Poisson floor). Parameters in ``params.stats.lending_surge`` (ratio ≥ 3 by default).
    """

    feed = Feed.LOANS
    categories = (Category.LENDING_SURGE,)
    name = "lending_surge"
    namespace = "lending_surge"

    def state_key(self, event: Loan) -> str:
        return event.institution_id

    def detect(self, event: Loan, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        p = self.params.stats.lending_surge
        st = state if state is not None else _new_state("count", "amount")
        t = event.event_time.timestamp()
        new = event.event_type == "originated"
        typical = float(st.get("size", 0.0))
        if new:
            typical = _track_mean(st, "size", event.principal, 500.0)
        metrics = ["count", "amount"] if p.use_amount else ["count"]
        units = {"count": 1.0, "amount": max(typical, 1e-9)}
        before = any(st["series"][m]["alarm"] for m in metrics)
        results: dict[str, tuple[Judgement, Transition | None]] = {}
        live = [advance(st["series"][m], t, 1.0, p, unit=units[m]) for m in metrics]
        if not all(live):
            return st, []
        for metric in metrics:
            series = st["series"][metric]
            value = 1.0 if metric == "count" else event.principal
            if new and add(series, t, value, p) and metric == "count":
                _remember(st, event)
            j = judge(series, 1.0, p, unit=units[metric])
            results[metric] = (j, alarm_step(series, t, j, p))
        after = [m for m in metrics if st["series"][m]["alarm"]]
        moved = [m for m, (_, tr) in results.items() if tr in (Transition.FIRE, Transition.REPEAT)]
        if not before and after:
            transition, lead = Transition.FIRE, after[0]
        elif before and after and moved:
            transition, lead = Transition.REPEAT, moved[0]
        elif before and not after:
            transition, lead = Transition.CLEAR, metrics[0]
        else:
            return st, []
        extra = {
            "metric": lead,
            "typical_principal": round(float(st.get("size", 0.0)), 2),
            "metrics": {
                m: j.evidence(p, method=self.method, unit=m) for m, (j, _) in results.items()
            },
        }
        finding = self._finding(
            event=event,
            entity_id=event.institution_id,
            institution_id=event.institution_id,
            transition=transition,
            judgement=results[lead][0],
            p=p,
            unit="originations" if lead == "count" else "principal",
            state=st,
            extra=extra,
        )
        return st, [finding]


class VolumeAnomaly(_SpikeDetector):
    """volume_anomaly: a product's traded quantity (or number of trades) per window jumps.

    Quantity is judged in units of the product's typical trade (compound Poisson floor), so
    ``min_excess`` reads as "typical trades above expected". Parameters in
    ``params.stats.volume_anomaly`` (ratio ≥ 3 by default).
    """

    feed = Feed.TRADES
    categories = (Category.VOLUME_ANOMALY,)
    name = "volume_anomaly"
    namespace = "volume_anomaly"
    entity_type = EntityType.PRODUCT

    def state_key(self, event: Trade) -> str:
        return event.product_id

    def detect(self, event: Trade, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        p = self.params.stats.volume_anomaly
        st = state if state is not None else _new_state("volume")
        t = event.event_time.timestamp()
        by_quantity = p.metric == "quantity"
        typical = _track_mean(st, "size", event.quantity, 500.0) if by_quantity else 1.0
        series = st["series"]["volume"]
        if not advance(series, t, 1.0, p, unit=typical):
            return st, []
        if add(series, t, event.quantity if by_quantity else 1.0, p):
            _remember(st, event)
        j = judge(series, 1.0, p, unit=typical)
        transition = alarm_step(series, t, j, p)
        if transition is None:
            return st, []
        extra = {"metric": p.metric, "typical_trade_quantity": round(typical, 4)}
        finding = self._finding(
            event=event,
            entity_id=event.product_id,
            institution_id=event.venue_id,
            transition=transition,
            judgement=j,
            p=p,
            unit="quantity" if by_quantity else "trades",
            state=st,
            extra=extra,
        )
        return st, [finding]
