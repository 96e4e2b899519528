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

    for model in monitor.reference.models:
        ctx.metrics.model_info.labels(model, monitor.model_version).set(1)

    @app.timer(ctx.settings.ml.drift_check_seconds, name="check_model_drift")
    async def check_model_drift() -> None:
        findings = monitor.check(datetime.now(UTC))
        for model, values in monitor.psi.items():
            for name, value in values.items():
                ctx.metrics.drift_psi.labels(model, name).set(value)
        for finding in findings:
            log.warning("model drift: %s (cleared=%s)", finding.entity_id, finding.cleared)
            await send_finding(ctx, finding, time.time())
