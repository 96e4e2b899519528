"""reload_rules: an edited rules file takes effect without a redeploy.

Every ``rules.reload_seconds`` the worker looks at the rules file; when it changed and is
valid, the rule-based detectors are rebuilt with the new parameters (their state tables stay:
same detectors, same namespaces) and every later finding carries the new rules version. A bad
edit is logged and the rules in force stay, so a typo never stops monitoring.
"""

from __future__ import annotations

import logging

import faust

from models import DetectorKind, DetectorParams, RiskEngine
from models.catalogue import build_engine
from models.rules_file import RulesWatcher
from stream.agents._context import WorkerContext
from stream.settings import resolve

log = logging.getLogger(__name__)


def with_rules(engine: RiskEngine, params: DetectorParams) -> RiskEngine:
    """The same catalogue under new rules; the ML detectors (and their models) are kept."""
    ml = [d for d in engine.detectors if d.kind is DetectorKind.ML]
    return build_engine(params, extra=ml)


def register(app: faust.App, ctx: WorkerContext) -> None:
    interval = ctx.settings.rules.reload_seconds
    if interval <= 0:
        return
    watcher = RulesWatcher(resolve(ctx.settings.rules.path), missing_ok=True)

    @app.timer(interval, name="reload_rules")
    async def reload_rules() -> None:
        params = watcher.reload_if_changed()
        if params is not None:
            ctx.engine = with_rules(ctx.engine, params)
            log.info("detectors now run rules version %s", params.version)
