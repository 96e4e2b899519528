"""``OutboxDispatcher``: drains the transactional outbox to the receivers' channels.

Each round claims due rows (see ``alerts.notify.outbox``), sends every batch to each channel
of its receiver not done yet, then marks the rows delivered, or schedules a retry with
exponential backoff and jitter, or marks them dead (kept, visible) after ``max_attempts`` or
a permanent refusal. A channel that succeeded is remembered, so a retry does not resend it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from alerts.notify.alertmanager import AlertmanagerSender
from alerts.notify.config import ChannelKind, DeliveryConfig, RetryPolicy
from alerts.notify.email import EmailSender
from alerts.notify.metrics import DeliveryMetrics
from alerts.notify.notification import DeliveryFailed, Notification, Sender
from alerts.notify.outbox import Batch, OutboxClaims
from alerts.notify.webhook import WebhookSender
from alerts.routing import RoutingTree

log = logging.getLogger(__name__)

#: Batches sent at the same time.
CONCURRENCY = 16


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def backoff(attempt: int, policy: RetryPolicy, rng: random.Random) -> timedelta:
    """Delay before attempt ``attempt + 1``: doubled each time up to ``max``, ± ``jitter``."""
    base: timedelta = min(policy.initial * 2 ** (attempt - 1), policy.max)
    return base * rng.uniform(1 - policy.jitter, 1 + policy.jitter)


@dataclass(slots=True)
class Round:
    """What one ``run_once`` did (rows, not notifications, except ``notifications``)."""

    notifications: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def default_senders(config: DeliveryConfig) -> dict[ChannelKind, Sender]:
    senders: dict[ChannelKind, Sender] = {}
    channels = config.receivers.values()
    if any(c.webhooks for c in channels):
        senders["webhook"] = WebhookSender()
    if config.smtp is not None and any(c.email for c in channels):
        senders["email"] = EmailSender(config.smtp)
    if any(c.alertmanager for c in channels):
        senders["alertmanager"] = AlertmanagerSender()
    return senders


class OutboxDispatcher:
    """Delivers outbox rows of the receivers in ``config``; rows of others stay queued."""

    def __init__(
        self,
        engine: Engine,
        config: DeliveryConfig,
        senders: Mapping[ChannelKind, Sender] | None = None,
        *,
        routing: RoutingTree | None = None,
        clock: Callable[[], datetime] = _wall_clock,
        metrics: DeliveryMetrics | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.senders = dict(senders) if senders is not None else default_senders(config)
        self.metrics = metrics
        self._clock = clock
        self._rng = rng or random.Random()
        self.claims = OutboxClaims(
            engine,
            receivers=list(config.receivers),
            lease=config.lease,
            routing=routing if config.grouping else None,
        )
        missing = {
            target.kind
            for channels in config.receivers.values()
            for _, target in channels.channels()
            if target.kind not in self.senders
        }
        if missing:
            raise ValueError(f"no sender for channel kinds {sorted(missing)}")
        if routing is not None:
            config.check_receivers(routing.receivers)
            idle = sorted(set(routing.receivers) - set(config.receivers))
            if idle:
                log.warning("receivers without delivery channels (rows stay queued): %s", idle)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; sleeps ``poll_interval`` when nothing was due."""
        wait = self.config.poll_interval.total_seconds()
        log.info("outbox dispatcher started for %d receivers", len(self.claims.receivers))
        while not stop.is_set():
            try:
                done = await self.run_once()
            except Exception:  # the store may be away for a while: try again next round
                log.exception("outbox round failed")
                done = Round()
            if done.notifications == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
        log.info("outbox dispatcher stopped")

    async def run_once(self) -> Round:
        """Claim what is due now, send it, settle it."""
        now = self._clock()
        batches = await asyncio.to_thread(self.claims.claim, now=now, limit=self.config.batch_size)
        result = Round(notifications=len(batches))
        limit = asyncio.Semaphore(CONCURRENCY)

        async def deliver(batch: Batch) -> None:
            async with limit:
                await self._deliver(batch, result)

        await asyncio.gather(*(deliver(b) for b in batches))
        if self.metrics is not None:
            self.metrics.backlog.set(await asyncio.to_thread(self.claims.backlog))
        return result

    async def _deliver(self, batch: Batch, result: Round) -> None:
        notification = Notification(
            key=batch.key,
            receiver=batch.receiver,
            group_key=batch.group_key,
            events=batch.events,
            alert_url=self.config.alert_url,
        )
        done = set(batch.done_channels)
        failures: list[DeliveryFailed] = []
        failed_kinds: list[str] = []
        for name, target in self.config.receivers[batch.receiver].channels():
            if name in done:
                continue
            try:
                await self.senders[target.kind].send(notification, target)
            except DeliveryFailed as exc:
                failures.append(exc)
                failed_kinds.append(target.kind)
                continue
            except Exception as exc:  # a sender bug must not stop the other receivers
                log.exception("sender %s failed on %s", target.kind, batch.key)
                failures.append(DeliveryFailed(f"{type(exc).__name__}: {exc}"))
                failed_kinds.append(target.kind)
                continue
            done.add(name)
            self._count(batch.receiver, target.kind, "delivered")
        now = self._clock()
        if not failures:
            held = await asyncio.to_thread(
                self.claims.settle, batch, now=now, done_channels=done, delivered=True
            )
            result.delivered += held
            self._lost_lease(batch, held)
            return
        error = "; ".join(str(f) for f in failures)
        dead = any(f.permanent for f in failures) or batch.attempt >= self.config.retry.max_attempts
        retry_at = None if dead else now + backoff(batch.attempt, self.config.retry, self._rng)
        held = await asyncio.to_thread(
            self.claims.settle,
            batch,
            now=now,
            done_channels=done,
            delivered=False,
            dead=dead,
            retry_at=retry_at,
            error=error,
        )
        self._lost_lease(batch, held)
        outcome = "dead" if dead else "failed"
        for kind in failed_kinds:
            self._count(batch.receiver, kind, outcome)
        if dead:
            result.dead += held
            log.error(
                "gave up on %s for %s after %d attempts: %s",
                batch.key,
                batch.receiver,
                batch.attempt,
                error,
            )
        else:
            result.retried += held
            log.warning(
                "delivery %s to %s failed (attempt %d, retry at %s): %s",
                batch.key,
                batch.receiver,
                batch.attempt,
                retry_at.isoformat() if retry_at else "-",
                error,
            )
        result.errors.append(error)

    def _count(self, receiver: str, channel: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.deliveries.labels(receiver, channel, outcome).inc()

    @staticmethod
    def _lost_lease(batch: Batch, held: int) -> None:
        if held < len(batch.ids):
            log.warning(
                "%s: %d of %d rows were taken over after the lease expired",
                batch.key,
                len(batch.ids) - held,
                len(batch.ids),
            )

    async def aclose(self) -> None:
        """Close the senders' HTTP clients."""
        for sender in self.senders.values():
            close = getattr(sender, "aclose", None)
            if close is not None:
                await close()
