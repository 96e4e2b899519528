"""flush_state: a timer that logs changed state keys to their changelogs once a second.

Only keys whose findings are already queued are logged (``StateSection``), and the producer is
flushed first, so the changelog never runs ahead of the findings a change caused.
"""

from __future__ import annotations

import faust

from stream.agents._context import WorkerContext

#: Seconds between state flushes: a hot key is logged at most this often.
FLUSH_SECONDS = 1.0


def register(app: faust.App, ctx: WorkerContext) -> None:
    @app.timer(FLUSH_SECONDS, name="flush_state")
    async def flush_state() -> None:
        await ctx.state.flush_async(ctx.app.producer)
