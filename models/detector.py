"""The contract every detector follows, modelled on scikit-learn estimators.

Parameters are keyword-only and stored unchanged; state is passed in and handed back, never kept
on ``self``; a detector returns ``Finding``s, never alerts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from models.categories import Category, DetectorKind, Feed
from models.findings import DetectorRef, Finding
from models.params import DetectorParams
from models.state import InstitutionRegistry, StateRepair


class Partition(StrEnum):
    """Which key a detector's state is partitioned by, so the worker knows where to run it.

    ``feed``: the feed's own Kafka key (loans: institution_id, guarantees: guarantor_id,
    trades: product_id). ``borrower``: loans re-keyed by borrower_id. ``network``: the whole
    guarantee graph in one partition. ``findings``: findings keyed by institution_id (composite
    detectors consume findings, not events).
    """

    FEED = "feed"
    BORROWER = "borrower"
    NETWORK = "network"
    FINDINGS = "findings"


@dataclass(frozen=True, slots=True)
class Context:
    """What a detector may read besides its own state."""

    registry: InstitutionRegistry


class Detector(ABC):
    """Base class: subclasses set the class attributes and implement ``detect``.

    Parameters
    ----------
    params : DetectorParams
        Thresholds; ``params.version`` is stamped on every finding.
    """

    feed: ClassVar[Feed]
    categories: ClassVar[tuple[Category, ...]]
    kind: ClassVar[DetectorKind]
    name: ClassVar[str]
    partition: ClassVar[Partition] = Partition.FEED
    #: State namespace (one Faust table per namespace); None for a stateless detector.
    namespace: ClassVar[str | None] = None
    #: True: ``detect`` gets a ``models.state.KeyedState`` over the whole namespace (for an event
    #: whose ``state_key`` is not None) and reads and writes the small sub-keys it needs; the
    #: state it returns is ignored. For state that would otherwise grow with a book or a graph.
    keyed: ClassVar[bool] = False

    def __init__(self, *, params: DetectorParams | None = None) -> None:
        self.params = params if params is not None else DetectorParams()

    @property
    def ref(self) -> DetectorRef:
        return DetectorRef(self.kind, self.name, self.params.version)

    def state_key(self, event: Any) -> str | None:
        """The key of the state this event reads and updates; None when stateless."""
        return None

    def repair(self, entries: Iterable[tuple[str, Any]]) -> list[StateRepair]:
        """Rebuild what keyed state derives from other keys (sums, indexes) from its facts.

        Run by the worker once the namespace is recovered from its changelog: a crash can cut a
        flush short and keep some of an event's keys but not others (``models.book_repair``).
        ``entries`` are the namespace's (key, value) pairs; the default derives nothing.
        """
        return []

    @abstractmethod
    def detect(self, event: Any, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        """Look at one event with the state for its key; return the new state and findings."""

    def detect_batch(
        self, events: Sequence[Any], states: Sequence[Any], ctx: Context
    ) -> list[tuple[Any, list[Finding]]]:
        """Score several events at once; ML detectors override it to amortise model calls.

        ``states[i]`` is the state for ``events[i]`` as it was before the batch; overriding
        implementations must handle several events with the same key in one batch.
        """
        return [self.detect(e, s, ctx) for e, s in zip(events, states, strict=True)]
