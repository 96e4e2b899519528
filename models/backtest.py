"""Runs a history through the whole detector catalogue with in-memory state, without Kafka.

The routing mirrors the live worker: each event goes through the detectors of its feed's own
partition, then loans through the borrower partition and guarantees through the network
partition, and every finding through the composite detectors. Same engine, same detectors.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from models.categories import Feed
from models.detector import Partition
from models.engine import DetectorFailure, Outcome, RiskEngine
from models.errors import InvalidEvent
from models.events import Institution
from models.findings import Finding
from models.history import BadLine, HistoryRecord, to_event
from models.state import DictRegistry, DictStore

log = logging.getLogger(__name__)

#: Partitions an event passes through after its feed's own, as in the worker's re-key topics.
FOLLOW_UPS: dict[Feed, tuple[Partition, ...]] = {
    Feed.LOANS: (Partition.BORROWER,),
    Feed.GUARANTEES: (Partition.NETWORK,),
}


@dataclass
class BacktestStats:
    """What happened to each line: counted so a report can say what was refused and why."""

    events: Counter[str] = field(default_factory=Counter)
    bad_lines: list[BadLine] = field(default_factory=list)
    invalid_events: list[tuple[str, str]] = field(default_factory=list)
    failures: list[DetectorFailure] = field(default_factory=list)
    findings: Counter[str] = field(default_factory=Counter)


@dataclass
class Backtest:
    """Holds the in-memory state of one replay; ``run`` yields findings in event order.

    Parameters
    ----------
    engine : RiskEngine
        Usually ``models.catalogue.build_engine(params, extra=ml_detectors)``.
    """

    engine: RiskEngine
    store: DictStore = field(default_factory=DictStore)
    registry: DictRegistry = field(default_factory=DictRegistry)
    stats: BacktestStats = field(default_factory=BacktestStats)

    def run(self, lines: Iterable[HistoryRecord | BadLine]) -> Iterator[Finding]:
        for line in lines:
            yield from self.feed(line)

    def feed(self, line: HistoryRecord | BadLine) -> list[Finding]:
        """One history line: a bad line is counted and reported, a record is processed."""
        if isinstance(line, BadLine):
            self.stats.bad_lines.append(line)
            log.warning("history line %d refused: %s", line.line_no, line.reason)
            return []
        return self.process(line)

    def process(self, record: HistoryRecord) -> list[Finding]:
        """One record through every partition it visits in the worker, then the composites."""
        try:
            event = to_event(record)
        except InvalidEvent as exc:
            event_id = str(record.value.get("event_id", "?"))
            self.stats.invalid_events.append((event_id, exc.reason))
            return []
        self.stats.events[record.topic] += 1
        if isinstance(event, Institution):
            self.registry.put(event)
        outcome = self.engine.process(event, store=self.store, registry=self.registry)
        for partition in FOLLOW_UPS.get(event.feed, ()):
            more = self.engine.process(
                event, store=self.store, registry=self.registry, partition=partition
            )
            _merge(outcome, more)
        if outcome.findings:
            composite = self.engine.process_findings(
                outcome.findings, store=self.store, registry=self.registry
            )
            _merge(outcome, composite)
        self.stats.failures.extend(outcome.failures)
        self.stats.findings.update(str(f.category) for f in outcome.findings)
        return outcome.findings


def _merge(into: Outcome, other: Outcome) -> None:
    into.findings.extend(other.findings)
    into.failures.extend(other.failures)
