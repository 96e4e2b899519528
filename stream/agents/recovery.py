"""repair_recovered_state: after a table is recovered, rebuild the sums derived from its facts.

State reaches the changelog one record per key, and a crash can cut a flush short: a book's
position may be recovered with its new balance while the summary that the same event moved is
not (``models.book_repair`` says why the replay cannot mend that itself). Once Faust has
rebuilt a table from its changelog, and before any event is read, each namespace whose
detectors declare a ``repair`` is checked and the disagreeing keys are rewritten and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import faust

from stream.agents._context import WorkerContext
from stream.tables import Repair

log = logging.getLogger(__name__)


def register(app: faust.App, ctx: WorkerContext) -> None:
    for namespace, repair in sorted(ctx.engine.state_repairs().items()):
        table = ctx.state.tables.get(namespace)
        if table is not None:
            table.on_recover(_repairer(ctx, namespace, repair))


def _repairer(ctx: WorkerContext, namespace: str, repair: Repair) -> Callable[[], Awaitable[None]]:
    async def repair_recovered_state() -> None:
        for fix in ctx.state.repair(namespace, repair):
            log.warning(
                "%s state of %s disagreed with its facts after recovery (a changelog flush cut"
                " short); rewrote %d keys: %s",
                namespace,
                fix.owner,
                len(fix.changes),
                ", ".join(sorted(fix.changes)[:5]),
            )
            ctx.metrics.state_repairs.labels(namespace).inc()

    return repair_recovered_state
