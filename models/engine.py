"""Runs the detectors of a feed over an event against a state store: the one code path that the
live worker, the backtest and training share.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.categories import Feed
from models.detector import Context, Detector, Partition
from models.events import FeedEvent, Institution
from models.findings import Finding
from models.state import InstitutionRegistry, KeyedState, StateRepair, StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DetectorFailure:
    """A detector raised on an event: the event is dead-lettered with this reason, never dropped."""

    detector: str
    event_id: str
    error: str

    @property
    def reason(self) -> str:
        return f"detector {self.detector} failed on {self.event_id}: {self.error}"


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    failures: list[DetectorFailure] = field(default_factory=list)


class RiskEngine:
    """Dispatches events to detectors by (feed, partition) and enriches their findings.

    Parameters
    ----------
    detectors : sequence of Detector
        Run in the given order for each event of their feed and partition.
    """

    def __init__(self, *, detectors: Sequence[Detector]) -> None:
        self.detectors = list(detectors)
        self._by_route: dict[tuple[Feed | None, Partition], list[Detector]] = defaultdict(list)
        for det in self.detectors:
            feed = None if det.partition is Partition.FINDINGS else det.feed
            self._by_route[(feed, det.partition)].append(det)

    def namespaces(self, partition: Partition | None = None) -> set[str]:
        """State namespaces in use (the worker declares one table per namespace)."""
        return {
            d.namespace
            for d in self.detectors
            if d.namespace is not None and (partition is None or d.partition is partition)
        }

    def state_repairs(self) -> dict[str, Callable[[Iterable[tuple[str, Any]]], list[StateRepair]]]:
        """Per keyed namespace, what rebuilds its derived keys after a recovery
        (``Detector.repair``)."""
        return {d.namespace: d.repair for d in self.detectors if d.keyed and d.namespace}

    def detectors_for(self, feed: Feed | None, partition: Partition) -> list[Detector]:
        return self._by_route.get((feed, partition), [])

    def process(
        self,
        event: FeedEvent,
        *,
        store: StateStore,
        registry: InstitutionRegistry,
        partition: Partition = Partition.FEED,
    ) -> Outcome:
        """Run one event through the detectors of its feed in ``partition``."""
        return self.process_batch([event], store=store, registry=registry, partition=partition)

    def process_batch(
        self,
        events: Sequence[FeedEvent],
        *,
        store: StateStore,
        registry: InstitutionRegistry,
        partition: Partition = Partition.FEED,
    ) -> Outcome:
        """Run events of one feed; detectors that override ``detect_batch`` see them at once."""
        outcome = Outcome()
        if not events:
            return outcome
        ctx = Context(registry=registry)
        for det in self.detectors_for(events[0].feed, partition):
            self._run(det, events, store, ctx, outcome)
        outcome.findings = [self._enrich(f, registry) for f in outcome.findings]
        return outcome

    def process_findings(
        self, findings: Iterable[Finding], *, store: StateStore, registry: InstitutionRegistry
    ) -> Outcome:
        """Run composite detectors (escalation, regional clusters) over findings."""
        batch = list(findings)
        outcome = Outcome()
        ctx = Context(registry=registry)
        for det in self.detectors_for(None, Partition.FINDINGS):
            for finding in batch:
                self._run(det, [finding], store, ctx, outcome)
        outcome.findings = [self._enrich(f, registry) for f in outcome.findings]
        return outcome

    def _run(
        self,
        det: Detector,
        events: Sequence[FeedEvent] | Sequence[Finding],
        store: StateStore,
        ctx: Context,
        outcome: Outcome,
    ) -> None:
        if type(det).detect_batch is Detector.detect_batch:
            for index in range(len(events)):
                self._run_batch(det, events[index : index + 1], store, ctx, outcome)
        else:
            self._run_batch(det, events, store, ctx, outcome)

    @staticmethod
    def _run_batch(
        det: Detector,
        events: Sequence[FeedEvent] | Sequence[Finding],
        store: StateStore,
        ctx: Context,
        outcome: Outcome,
    ) -> None:
        keys = [det.state_key(e) for e in events]
        ns = det.namespace
        if det.keyed and ns is not None:
            view = KeyedState(store, ns)
            states: list[Any] = [view if k is not None else None for k in keys]
            keys = [None] * len(keys)  # the detector wrote its sub-keys itself
        else:
            states = [store.get(ns, k) if ns is not None and k is not None else None for k in keys]
        try:
            results = det.detect_batch(events, states, ctx)
        except Exception as exc:  # a detector bug must cost one event, not the stream
            log.exception("detector %s failed", det.name)
            for e in events:
                outcome.failures.append(
                    DetectorFailure(det.name, _event_id(e), f"{type(exc).__name__}: {exc}")
                )
            return
        for key, (new_state, found) in zip(keys, results, strict=True):
            if ns is not None and key is not None:
                store.set(ns, key, new_state)
            outcome.findings.extend(found)

    @staticmethod
    def _enrich(finding: Finding, registry: InstitutionRegistry) -> Finding:
        if finding.institution_id is None:
            return finding
        record = registry.get(finding.institution_id)
        if record is None:
            return finding
        return finding.with_context(
            institution_type=record.institution_type, region_code=record.region_code
        )


def _event_id(event: FeedEvent | Finding) -> str:
    if isinstance(event, Finding):
        return event.event_ids[0] if event.event_ids else event.entity_id
    return event.event_id


def is_reference(event: FeedEvent) -> bool:
    """Institution records update the registry; they are not scored as business."""
    return isinstance(event, Institution)
