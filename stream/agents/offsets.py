"""repair_commit_holes: a partition whose commits are stuck behind offsets never acked is re-read.

Faust commits a partition only up to its first offset that was not acked. After a rebalance
some fetched offsets can be lost to the stream: dropped by Faust's fetcher (its read position
for the partition left ahead of the committed offset it sought back to, so the re-fetched
offsets below it are discarded as already read) or acked for a stale generation without being
processed. The offsets above them are processed and acked, but the committed offset never
moves again (the two-worker benchmark: ``findings`` committed at 9 of 310 for good).

Every ``CHECK_SECONDS`` this timer looks for such a hole: acked offsets beyond the committed
one with a gap of two or more before them that nothing is processing, the fetcher already past
it, the same hole at the previous look, and no commit or rebalance under way. It then seeks the
partition back to its committed offset, so the hole's messages are delivered and processed
(at least once: the ones after the hole are read twice; resends are skipped by the recent-id
memory, and alerts are idempotent by event id).

The bookkeeping read here is Faust's own (``faust-streaming`` 0.15 ``Consumer``); nothing is
changed in it except through ``Consumer.seek``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import faust

from stream.agents._context import WorkerContext

log = logging.getLogger(__name__)

#: Seconds between looks; a hole must be seen at two looks in a row before it is repaired.
CHECK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Hole:
    """Offsets ``committed`` .. ``first_acked - 1`` of ``tp`` were never acked."""

    tp: Any
    committed: int
    first_acked: int


def find_holes(
    acked: Mapping[Any, Iterable[int]],
    committed: Mapping[Any, int | None],
    read: Mapping[Any, int | None],
    in_flight: Iterable[tuple[Any, int]],
) -> list[Hole]:
    """Partitions whose commits cannot advance: Faust's stall condition, nothing to fill it.

    ``acked``: offsets acked and not yet committed; ``committed``: the next offset to commit;
    ``read``: the last offset the fetcher handed on; ``in_flight``: (tp, offset) of messages
    being processed. Faust commits past a single missing offset, so a hole is two or more.
    """
    busy: dict[Any, list[int]] = {}
    for tp, offset in in_flight:
        busy.setdefault(tp, []).append(offset)
    holes = []
    for tp, offsets in acked.items():
        done = list(offsets)
        start = committed.get(tp)
        if not done or start is None:
            continue
        first = min(done)
        last_read = read.get(tp)
        if first - start <= 1 or last_read is None or last_read < first:
            continue
        if any(start <= offset < first for offset in busy.get(tp, ())):
            continue
        holes.append(Hole(tp, start, first))
    return holes


def consumer_holes(consumer: Any) -> list[Hole]:
    """``find_holes`` over a Faust consumer's own bookkeeping."""
    in_flight = [(m.tp, m.offset) for m in list(consumer._unacked_messages) if not m.acked]
    return find_holes(
        {tp: list(offsets) for tp, offsets in consumer._acked.items()},
        dict(consumer._committed_offset),
        dict(consumer._read_offset),
        in_flight,
    )


class HoleRepair:
    """Remembers the holes of the last look; repairs those still there at the next."""

    def __init__(self) -> None:
        self._seen: set[Hole] = set()

    def due(self, holes: Iterable[Hole]) -> list[Hole]:
        now = set(holes)
        repeated = [hole for hole in now if hole in self._seen]
        self._seen = now - set(repeated)
        return repeated


def register(app: faust.App, ctx: WorkerContext) -> None:
    repair = HoleRepair()

    @app.timer(CHECK_SECONDS, name="repair_commit_holes")
    async def repair_commit_holes() -> None:
        consumer = app.consumer
        # While a commit runs, the offsets it takes have left the acked list but not yet
        # moved the committed one: a gap that is no hole.
        if app.rebalancing or getattr(consumer, "_commit_fut", None) is not None:
            return
        for hole in repair.due(consumer_holes(consumer)):
            log.warning(
                "%s[%d]: offsets %d..%d never acked, commits stuck at %d: reading again from %d",
                hole.tp.topic,
                hole.tp.partition,
                hole.committed,
                hole.first_acked - 1,
                hole.committed,
                hole.committed,
            )
            ctx.metrics.commit_holes.inc()
            await consumer.seek(hole.tp, hole.committed)
