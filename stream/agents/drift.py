"""check_model_drift: a timer that closes full drift windows and reports ``model_drift``.

The ML detectors feed the monitor as they score; its findings (feed ``system``) take the same
path as any other, through ``findings`` to the alert stage.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import faust

from stream.agents._context import WorkerContext
from stream.agents._scoring import send_finding

log = logging.getLogger(__name__)


def register(app: faust.App, ctx: WorkerContext) -> None:
    monitor = ctx.drift
    if monitor is None:
        return

    @app.timer(ctx.settings.ml.drift_check_seconds, name="check_model_drift")
    async def check_model_drift() -> None:
        for finding in monitor.check(datetime.now(UTC)):
            log.warning("model drift: %s (cleared=%s)", finding.entity_id, finding.cleared)
            await send_finding(ctx, finding, time.time())
