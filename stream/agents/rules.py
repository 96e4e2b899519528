"""reload_rules: new rules take effect without a redeploy, from the admin API or the rules file.

Where the rules come from, strongest first:

1. **The active stored rule set**: ``PUT /v1/admin/rules`` (or a rollback) stores a version in
   the alert store and activates it. Once one is active it wins over the rules file, and file
   edits are only logged, until no stored set is active any more.
2. **The rules file** (``rules.path``, ``deploy/config/rules.yaml``; domain.md's defaults when
   it is absent): what runs while the store holds no active rule set.

The stored set is read when the app is built (so it applies from the first event) and, like
the file, every ``rules.reload_seconds`` (0: neither reloads; a restart still reads both).
When the version in force changes, the rule detectors are rebuilt with the new parameters
exactly as for a file edit (their state tables stay: same detectors, same namespaces) and every
later finding carries the new ``params.version``: ``<declared>+store.<version_id>`` for a stored
set, the file's ``version`` otherwise. A bad file or stored set (stored sets are validated on
``PUT``, so it should not happen) is logged and the rules in force stay, so a typo never stops
monitoring; an unreadable store keeps the rules in force too.
"""

from __future__ import annotations

import asyncio
import logging

import faust
from sqlalchemy import Engine, inspect, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from alerts import StoreConfig, make_engine
from alerts.store import RuleSet, RuleSets
from models import DetectorKind, DetectorParams, RiskEngine
from models.catalogue import build_engine
from models.rules_file import RulesFileError, RulesWatcher
from stream.agents._context import WorkerContext
from stream.settings import resolve

log = logging.getLogger(__name__)


def with_rules(engine: RiskEngine, params: DetectorParams) -> RiskEngine:
    """The same catalogue under new rules; the ML detectors (and their models) are kept."""
    ml = [d for d in engine.detectors if d.kind is DetectorKind.ML]
    return build_engine(params, extra=ml)


class RulesInForce:
    """Chooses the rules the detectors run: the active stored rule set, else the rules file.

    ``update`` is called with what the store holds now; it returns the new parameters when the
    rules in force change (the caller rebuilds the detectors), else None.
    """

    def __init__(self, watcher: RulesWatcher) -> None:
        self.watcher = watcher
        self.params = watcher.params
        #: The stored version in force; None while the file governs.
        self.stored_id: int | None = None
        self._refused: int | None = None

    @property
    def source(self) -> str:
        return "file" if self.stored_id is None else f"stored rule set {self.stored_id}"

    def update(self, active: RuleSet | None, *, store_read: bool = True) -> DetectorParams | None:
        """The new rules, if they changed. ``store_read`` False: the store could not be read."""
        from_file = self.watcher.reload_if_changed()
        if store_read and active is not None:
            changed = self._stored(active)
        elif store_read and self.stored_id is not None:
            log.info("no stored rule set is active any more: the rules file governs again")
            changed = self._take(self.watcher.params, None)
        elif self.stored_id is None:
            changed = self._take(from_file, None)
        else:  # the store is away and a stored set is in force: keep it
            changed = None
        if from_file is not None and self.stored_id is not None:
            log.warning(
                "rules file changed (version %s) but stored rule set %d stays in force: a set "
                "activated through the API wins over the file",
                from_file.version,
                self.stored_id,
            )
        return changed

    def _stored(self, active: RuleSet) -> DetectorParams | None:
        if active.version_id in (self.stored_id, self._refused):
            return None
        try:
            params = active.params()
        except RulesFileError as exc:
            self._refused = active.version_id
            log.error(
                "stored rule set %d not applied, keeping %s (version %s): %s",
                active.version_id,
                self.source,
                self.params.version,
                exc,
            )
            return None
        return self._take(params, active.version_id)

    def _take(self, params: DetectorParams | None, stored_id: int | None) -> DetectorParams | None:
        if params is None:
            return None
        self.params = params
        self.stored_id = stored_id
        return params


class StoredRules:
    """Reads the active rule set from the alert store; an unreadable store is logged once.

    An in-memory store (``sqlite://``) lives in this process only: no API can have stored rules
    in it, so it is never read.
    """

    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        url = make_url(config.url)
        self.enabled = not (url.get_backend_name() == "sqlite" and not url.database)
        self._engine: Engine | None = None
        self._last_error: str | None = None

    def read(self) -> tuple[RuleSet | None, bool]:
        """(the active rule set or None, whether the store could be read)."""
        if not self.enabled:
            return None, True
        try:
            if self._engine is None:
                self._engine = make_engine(self.config)
            with Session(self._engine) as session:
                active = RuleSets(session).active()
        except SQLAlchemyError as exc:
            if self._not_migrated():
                return None, True  # a store without the table holds no rule set yet
            message = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
            if message != self._last_error:
                log.warning("stored rule sets unreadable (%s): the rules in force stay", message)
            self._last_error = message
            return None, False
        self._last_error = None
        return active, True

    def _not_migrated(self) -> bool:
        try:
            return self._engine is not None and not inspect(self._engine).has_table("rule_sets")
        except SQLAlchemyError:
            return False

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def register(app: faust.App, ctx: WorkerContext) -> None:
    settings = ctx.settings
    rules = RulesInForce(RulesWatcher(resolve(settings.rules.path), missing_ok=True))
    stored = StoredRules(settings.alerts.store)

    def apply(params: DetectorParams | None) -> None:
        if params is not None:
            ctx.engine = with_rules(ctx.engine, params)
            log.info("detectors now run rules version %s (%s)", params.version, rules.source)

    active, store_read = stored.read()
    if active is not None:
        apply(rules.update(active, store_read=store_read))
    stored.close()  # the pool is opened again by the first reload, in the event loop's time

    interval = settings.rules.reload_seconds
    if interval <= 0:
        return

    @app.timer(interval, name="reload_rules")
    async def reload_rules() -> None:
        active, store_read = await asyncio.to_thread(stored.read)
        apply(rules.update(active, store_read=store_read))
